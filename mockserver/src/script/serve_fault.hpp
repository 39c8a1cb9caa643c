// Faults the RAM-disk server can be told to have (`serve fault=NAME`): each
// breaks exactly one server rule of the spec, so that a server conformance
// suite can be shown to catch it. The table names each fault, the clause
// it breaks and how; the vocabulary, `--help-script` and the backend all
// read it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace nbdref::mock::script {

enum class ServeFault {
  None,
  // Greeting and client flags.
  ReservedHandshakeFlag,
  OldstyleHandshakeFlags,
  AcceptUnknownClientFlags,
  AcceptUnofferedNoZeroes,
  // NBD_OPT_EXPORT_NAME.
  ExportNameUnsupported,
  ExportNamePaddingDespiteNoZeroes,
  ExportNameNoPadding,
  ExportNameUnknownServesDefault,
  StarttlsAckedWithoutFixedNewstyle,
  // Transmission flags.
  FlagsWithoutHasFlags,
  DfWithoutStructuredReplies,
  FastZeroWithoutWriteZeroes,
  // Options.
  UnknownOptionInvalid,
  UnknownOptionDataUnread,
  UnsupNamesOptionZero,
  AbortWithoutAck,
  AbortWithDataInvalid,
  ListUnsupported,
  ListNameLengthOverrun,
  ListIgnoresData,
  InfoWithoutExport,
  GoAckPadding,
  InfoExportTooLong,
  InfoNameWithNul,
  UnknownInfoRequestInvalid,
  InfoExportTwice,
  InfoSizeZero,
  InfoBeforeUnknown,
  LongNameEchoed,
  MalformedInfoAccepted,
  StructuredReplyTwiceResets,
  StructuredReplyIgnoresData,
  StarttlsInvalid,
  TlsReqdForUnknownExport,
  BlockSizeRequired,
  BlockSizeRequiredSilently,
  BlockSizeRefusedWhenRequested,
  ExtendedHeadersIgnoresData,
  ExtendedHeadersCompactReplies,
  ExtendedHeadersRequired,
  BlockSizesUnadvertised,
  BlockStatusPayloadUnnegotiated,
  // Metadata contexts.
  ListAllContextsTooBig,
  ListFirstQueryOnly,
  ContextNameWithoutNamespace,
  UnregisteredNamespace,
  ListedContextNonzeroId,
  BaseWildcardIgnored,
  UnknownNamespaceInvalid,
  MalformedContextQueryAcked,
  SetContextTwice,
  SetBaseWildcardSelects,
  UnknownBaseLeafInvalid,
  EmptySetSelectsAllocation,
  SetWithoutStructuredReplies,
  // Transmission.
  StructuredRepliesUnnegotiated,
  WritesDropped,
  TrimFails,
  WriteZeroesIgnored,
  FuaOnlyOnWrites,
  NoHoleRefused,
  WriteZeroesEnotsup,
  ReadPastEndEio,
  WritePastEndEinval,
  TrimPastEndSucceeds,
  WriteZeroesPastEndEinval,
  ZeroLengthDisconnects,
  ZeroLengthCacheDisconnects,
  UnknownCommandDisconnects,
  UnknownCommandFlagsIgnored,
  InapplicableFlagsIgnored,
  UnknownCommandEnosys,
  UnknownCommandEnotsup,
  ReadPastEndEoverflow,
  FailedWritesSucceed,
  FailedReadSendsData,
  CacheFlagsIgnored,
  FastZeroUnadvertisedEnotsup,
  FastZeroEoverflow,
  FastZeroEnotsupZeroes,
  DiscAnswered,
  ReadOnlyWritesAllowed,
  ReadOnlyEinval,
  // Structured replies.
  ErrorsAsSimpleReplies,
  ReadHolesOmitted,
  ReadChunksUnaligned,
  DfFragmented,
  // Block status.
  ReqOneIgnored,
  AllocationUnknownFlag,
  ExtentsNotMerged,
  BlockStatusPastEndClamped,
  EmptySetKeepsSelection,
  // Size constraints.
  UnalignedAccepted,
  MaximumBelowPreferred,
  OversizedWriteDisconnects,
  // Extended headers.
  ExtendedHeadersNeedStructuredReplies,
  PayloadLenOnReadAccepted,
  ExtendedReplyOffsetZero,
  BlockStatusPayloadWithoutContexts,
  // Data integrity.
  CacheZeroes,
  // Robustness.
  HangUpEndsServer,
};

struct ServeFaultSpec {
  ServeFault fault;
  std::string_view name;    // as written in scripts: fault=read-only-einval
  std::string_view clause;  // the clause id of spec/clauses.tsv it breaks
  std::string_view breaks;  // what the server then does wrong, one line
};

// Every fault but None, in documentation order.
const std::vector<ServeFaultSpec>& serve_faults();
// The names of serve_faults(), for the vocabulary, with "none" first.
const std::vector<std::string_view>& serve_fault_names();
// The fault written `name` ("none" is ServeFault::None), or nullopt.
std::optional<ServeFault> serve_fault_named(std::string_view name);

}  // namespace nbdref::mock::script
