#include "nbdref/client.hpp"

#include <cerrno>

#include "handle/handle.hpp"
#include "transport/connector.hpp"
#include "uri/endpoint_record.hpp"
#include "uri/nbd_uri.hpp"
#if NBDREF_HAVE_URI
#include "uri/uri_connect.hpp"
#endif

namespace nbdref {
namespace {

void check(const Result<void>& r) {
  if (!r) throw ClientError(r.error().errnum, r.error().message);
}

template <class T>
T value(Result<T> r) {
  if (!r) throw ClientError(r.error().errnum, r.error().message);
  return std::move(*r);
}

engine::CommandRequest read_request(std::span<std::byte> buf, std::uint64_t offset,
                                    std::uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_READ, offset, buf.size(), flags);
  r.read_buffer = reinterpret_cast<std::uint8_t*>(buf.data());
  return r;
}

engine::CommandRequest write_request(std::span<const std::byte> buf, std::uint64_t offset,
                                     std::uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_WRITE, offset, buf.size(), flags);
  r.write_data = reinterpret_cast<const std::uint8_t*>(buf.data());
  return r;
}

// A command's C++ callbacks. Used directly for synchronous calls; handed to
// the handle (which owns it until retirement) for asynchronous ones.
class Callbacks final : public handle::AsyncCommand {
 public:
  ChunkObserver chunk;
  ExtentObserver extents;
  CompletionHandler completion;

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    if (!chunk) return;
    if (const int e = chunk(std::as_bytes(data), offset, static_cast<ReadChunkKind>(kind))) {
      error = e;
    }
  }
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> descriptors, int& error) override {
    if (!extents) return;
    list_.clear();
    for (const auto& d : descriptors) {
      list_.push_back({offset, d.length, d.status});
      offset += d.length;
    }
    if (const int e = extents(context.name, list_)) error = e;
  }
  bool on_finished(int& errnum) override { return completion ? completion(errnum) : false; }

 private:
  std::vector<Extent> list_;
};

// An option's C++ callbacks: collects what the server lists.
class OptionCallbacks final : public engine::OptionListener {
 public:
  std::vector<ExportEntry> exports;
  std::vector<std::string> contexts;
  CompletionHandler completion;

  void on_export(std::string_view name, std::string_view description) override {
    exports.push_back({std::string(name), std::string(description)});
  }
  void on_context(std::string_view name) override { contexts.emplace_back(name); }
  void on_option_complete(const Result<void>& result) override {
    if (completion) completion(result ? 0 : result.error().errnum);
  }
};

// Held as the handle holds it: released (here, deleted) when retired.
std::unique_ptr<Callbacks, handle::ReleaseAsyncCommand> with_completion(CompletionHandler on_done) {
  std::unique_ptr<Callbacks, handle::ReleaseAsyncCommand> c(new Callbacks());
  c->completion = std::move(on_done);
  return c;
}

}  // namespace

ClientError::ClientError(int errnum, const std::string& message)
    : std::runtime_error(message), errnum_(errnum) {}

Client::Client()
    : handle_(std::make_unique<handle::Handle>()),
      uri_endpoint_(std::make_unique<uri::EndpointRecord>()) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

// ---- identity and settings ----

std::string Client::name() const { return handle_->name(); }
void Client::set_name(std::string_view name) { handle_->set_name(std::string(name)); }
void Client::set_debug(bool on) { handle_->set_debug(on); }
void Client::set_debug_observer(DebugObserver observer) {
  if (!observer) {
    handle_->set_debug_callback({});
    return;
  }
  // The handle wants a copyable callable: share the move-only one.
  auto shared = std::make_shared<DebugObserver>(std::move(observer));
  handle_->set_debug_callback([shared](const char* context, const std::string& message) {
    (*shared)(context, message);
  });
}

void Client::set_export_name(std::string_view name) {
  check(handle_->set_export_name(std::string(name)));
}
std::string Client::export_name() const { return handle_->export_name(); }
void Client::set_full_info(bool on) { check(handle_->set_full_info(on)); }
void Client::set_request_block_size(bool on) { check(handle_->set_request_block_size(on)); }
void Client::set_request_structured_replies(bool on) {
  check(handle_->set_request_structured_replies(on));
}
void Client::set_request_extended_headers(bool on) {
  check(handle_->set_request_extended_headers(on));
}
void Client::set_handshake_flags(std::uint32_t flags) { check(handle_->set_handshake_flags(flags)); }
void Client::set_strict_mode(std::uint32_t flags) { check(handle_->set_strict_mode(flags)); }
void Client::set_pread_initialize(bool on) { handle_->set_pread_initialize(on); }
void Client::set_opt_mode(bool on) { check(handle_->set_opt_mode(on)); }
void Client::add_meta_context(std::string_view name) {
  check(handle_->add_meta_context(std::string(name)));
}
std::vector<std::string> Client::meta_contexts() const {
  return handle_->settings().meta_contexts;
}
void Client::clear_meta_contexts() { check(handle_->clear_meta_contexts()); }

namespace {

using Until = handle::Handle::SettableUntil;

template <class Apply>
void change(handle::Handle& h, const char* what, Apply apply) {
  check(h.change_settings(what, Until::Connect, [&](handle::HandleSettings& s) -> Result<void> {
    apply(s);
    return {};
  }));
}

}  // namespace

bool Client::supports_tls() {
  return handle::Handle::supports_tls();
}
void Client::set_tls(Tls mode) {
  if (mode != Tls::Disable && !supports_tls()) {
    // As a libnbd built without GnuTLS.
    throw ClientError(ENOTSUP, "this build has no TLS support");
  }
  if (mode != Tls::Disable && mode != Tls::Allow && mode != Tls::Require) {
    throw ClientError(EINVAL, "TLS mode " + std::to_string(static_cast<int>(mode)) +
                                  " is not one of Tls::Disable, Tls::Allow, Tls::Require");
  }
  change(*handle_, "the TLS mode", [&](auto& s) { s.tls = static_cast<int>(mode); });
}
void Client::set_tls_certificates(const std::string& directory) {
  change(*handle_, "the TLS certificates", [&](auto& s) { s.tls_certificates = directory; });
}
void Client::set_tls_verify_peer(bool verify) {
  change(*handle_, "TLS peer verification", [&](auto& s) { s.tls_verify_peer = verify; });
}
void Client::set_tls_username(const std::string& username) {
  change(*handle_, "the TLS username", [&](auto& s) { s.tls_username = username; });
}
void Client::set_tls_psk_file(const std::string& path) {
  change(*handle_, "the TLS PSK file", [&](auto& s) { s.tls_psk_file = path; });
}

// ---- connecting ----

void Client::connect_unix(const std::string& path) {
  check(handle_->connect(transport::connect_unix(path)));
}
void Client::connect_tcp(const std::string& host, const std::string& port) {
  check(handle_->connect(transport::connect_tcp(host, port)));
}
void Client::connect_socket(int fd) { check(handle_->connect(transport::connect_socket(fd))); }
void Client::connect_command(std::vector<std::string> argv) {
  check(handle_->connect(transport::connect_command(std::move(argv))));
}
void Client::connect_systemd_socket_activation(std::vector<std::string> argv) {
  check(handle_->connect(transport::connect_systemd_socket_activation(std::move(argv))));
}
void Client::connect_vsock(std::uint32_t cid, std::uint32_t port) {
  check(handle_->connect(transport::connect_vsock(cid, port)));
}
void Client::aio_connect_unix(const std::string& path) {
  check(handle_->start_connect(transport::connect_unix(path)));
}
void Client::aio_connect_tcp(const std::string& host, const std::string& port) {
  check(handle_->start_connect(transport::connect_tcp(host, port)));
}
void Client::aio_connect_socket(int fd) {
  check(handle_->start_connect(transport::connect_socket(fd)));
}
void Client::aio_connect_command(std::vector<std::string> argv) {
  check(handle_->start_connect(transport::connect_command(std::move(argv))));
}
void Client::kill_subprocess(int signum) { check(handle_->kill_subprocess(signum)); }

// ---- NBD URIs ----

bool Client::supports_uri() {
#if NBDREF_HAVE_URI
  return true;
#else
  return false;
#endif
}

void Client::set_uri_allow_transports(std::uint32_t mask) {
  if (mask & ~uri_transport::all) {
    throw ClientError(EINVAL, "transport mask " + std::to_string(mask) + " has unknown bits");
  }
  change(*handle_, "the URI transports", [&](auto& s) { s.uri_allow_transports = mask; });
}
void Client::set_uri_allow_tls(Tls policy) {
  const int mode = static_cast<int>(policy);
  if (mode < static_cast<int>(Tls::Disable) || mode > static_cast<int>(Tls::Require)) {
    throw ClientError(EINVAL, "TLS policy " + std::to_string(mode) + " is not a Tls value");
  }
  change(*handle_, "the URI TLS policy", [&](auto& s) { s.uri_allow_tls = mode; });
}
void Client::set_uri_allow_local_file(bool allow) {
  change(*handle_, "URI local files", [&](auto& s) { s.uri_allow_local_file = allow; });
}

#if NBDREF_HAVE_URI

namespace {

// Parses `text`, prepares `h` for it, and records it for get_uri; the
// connector to use.
std::unique_ptr<transport::Connector> prepare(handle::Handle& h, const std::string& text,
                                              uri::EndpointRecord& endpoint) {
  check(uri::need_new_handle(h));
  auto parsed = value(uri::parse_nbd_uri(text));
  auto connector = value(uri::prepare_uri_connect(h, parsed, handle::Handle::supports_tls()));
  endpoint.remember(h, std::move(parsed));
  return connector;
}

}  // namespace

void Client::connect_uri(const std::string& uri) {
  check(handle_->connect(prepare(*handle_, uri, *uri_endpoint_)));
}
void Client::aio_connect_uri(const std::string& uri) {
  check(handle_->start_connect(prepare(*handle_, uri, *uri_endpoint_)));
}
std::string Client::get_uri() const {
  const auto endpoint = uri_endpoint_->get();
  if (!endpoint && handle_->state() != handle::HandleState::Created) {
    throw ClientError(ENOTSUP,
                      "get_uri names connections made by connect_uri or aio_connect_uri only");
  }
  return value(uri::connection_uri(*handle_, endpoint));
}

#else  // !NBDREF_HAVE_URI

namespace {
[[noreturn]] void no_uri_support() {
  throw ClientError(ENOTSUP, "this build has no NBD URI support");
}
}  // namespace

void Client::connect_uri(const std::string&) {
  no_uri_support();
}
void Client::aio_connect_uri(const std::string&) {
  no_uri_support();
}
std::string Client::get_uri() const {
  no_uri_support();
}

#endif  // NBDREF_HAVE_URI

// ---- option mode ----

void Client::opt_go() { check(handle_->run_option(engine::OptionKind::Go, nullptr)); }
void Client::opt_abort() { check(handle_->run_option(engine::OptionKind::Abort, nullptr)); }
void Client::opt_info() { check(handle_->run_option(engine::OptionKind::Info, nullptr)); }

std::vector<ExportEntry> Client::opt_list() {
  OptionCallbacks c;
  check(handle_->run_option(engine::OptionKind::List, &c));
  return std::move(c.exports);
}
std::vector<std::string> Client::opt_list_meta_context() {
  OptionCallbacks c;
  check(handle_->run_option(engine::OptionKind::ListMetaContext, &c));
  return std::move(c.contexts);
}
std::vector<std::string> Client::opt_set_meta_context() {
  OptionCallbacks c;
  check(handle_->run_option(engine::OptionKind::SetMetaContext, &c));
  return std::move(c.contexts);
}

namespace {

// An option asking for a feature: a refusal is an answer, not a failure.
bool feature(handle::Handle& h, engine::OptionKind kind) {
  auto r = h.run_option(kind, nullptr);
  if (!r && h.state() != handle::HandleState::Negotiating) check(r);
  return value(kind == engine::OptionKind::ExtendedHeaders ? h.extended_headers_negotiated()
                                                           : h.structured_replies_negotiated());
}

void start_option(handle::Handle& h, engine::OptionKind kind, CompletionHandler on_done) {
  auto c = std::make_unique<OptionCallbacks>();
  c->completion = std::move(on_done);
  check(h.start_option(kind, std::move(c)));
}

}  // namespace

bool Client::opt_structured_reply() {
  return feature(*handle_, engine::OptionKind::StructuredReply);
}
bool Client::opt_extended_headers() {
  return feature(*handle_, engine::OptionKind::ExtendedHeaders);
}
bool Client::opt_starttls() {
  return value(handle_->opt_starttls());
}
void Client::aio_opt_starttls(CompletionHandler on_done) {
  start_option(*handle_, engine::OptionKind::StartTls, std::move(on_done));
}
void Client::aio_opt_go(CompletionHandler on_done) {
  start_option(*handle_, engine::OptionKind::Go, std::move(on_done));
}
void Client::aio_opt_info(CompletionHandler on_done) {
  start_option(*handle_, engine::OptionKind::Info, std::move(on_done));
}
void Client::aio_opt_abort() { start_option(*handle_, engine::OptionKind::Abort, {}); }

// ---- state and what the server said ----

std::string Client::state() const { return handle::state_name(handle_->state()); }
bool Client::is_created() const { return handle_->state() == handle::HandleState::Created; }
bool Client::is_connecting() const { return handle_->state() == handle::HandleState::Connecting; }
bool Client::is_negotiating() const {
  return handle_->state() == handle::HandleState::Negotiating;
}
bool Client::is_ready() const { return handle_->state() == handle::HandleState::Ready; }
bool Client::is_processing() const { return handle_->state() == handle::HandleState::Processing; }
bool Client::is_dead() const { return handle_->state() == handle::HandleState::Dead; }
bool Client::is_closed() const { return handle_->state() == handle::HandleState::Closed; }

std::uint64_t Client::size() const { return value(handle_->export_size()); }
bool Client::is_read_only() const { return value(handle_->has_flag(wire::NBD_FLAG_READ_ONLY)); }
bool Client::is_rotational() const { return value(handle_->has_flag(wire::NBD_FLAG_ROTATIONAL)); }
bool Client::can_flush() const { return value(handle_->has_flag(wire::NBD_FLAG_SEND_FLUSH)); }
bool Client::can_fua() const { return value(handle_->has_flag(wire::NBD_FLAG_SEND_FUA)); }
bool Client::can_trim() const { return value(handle_->has_flag(wire::NBD_FLAG_SEND_TRIM)); }
bool Client::can_zero() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_WRITE_ZEROES));
}
bool Client::can_fast_zero() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_FAST_ZERO));
}
bool Client::can_df() const { return value(handle_->has_flag(wire::NBD_FLAG_SEND_DF)); }
bool Client::can_multi_conn() const {
  return value(handle_->has_flag(wire::NBD_FLAG_CAN_MULTI_CONN));
}
bool Client::can_cache() const { return value(handle_->has_flag(wire::NBD_FLAG_SEND_CACHE)); }
bool Client::can_meta_context(std::string_view context) const {
  return value(handle_->can_meta_context(std::string(context)));
}
std::string Client::protocol() const { return value(handle_->protocol()); }
std::uint32_t Client::block_size(BlockSize which) const {
  return value(handle_->block_size(static_cast<handle::BlockSizeKind>(which)));
}
std::string Client::canonical_export_name() const {
  return value(handle_->canonical_export_name());
}
std::string Client::export_description() const { return value(handle_->export_description()); }
bool Client::structured_replies_negotiated() const {
  return value(handle_->structured_replies_negotiated());
}
bool Client::extended_headers_negotiated() const {
  return value(handle_->extended_headers_negotiated());
}
bool Client::tls_negotiated() const {
  return value(handle_->tls_negotiated());
}

// ---- synchronous commands ----

void Client::pread(std::span<std::byte> buf, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(read_request(buf, offset, flags), nullptr));
}

void Client::pread(std::span<std::byte> buf, std::uint64_t offset, ChunkObserver observer,
                   std::uint32_t flags) {
  Callbacks c;
  c.chunk = std::move(observer);
  check(handle_->run(read_request(buf, offset, flags), &c));
}

void Client::pwrite(std::span<const std::byte> buf, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(write_request(buf, offset, flags), nullptr));
}

void Client::flush(std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_FLUSH, 0, 0, flags), nullptr));
}
void Client::trim(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_TRIM, offset, count, flags), nullptr));
}
void Client::cache(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_CACHE, offset, count, flags), nullptr));
}
void Client::zero(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_WRITE_ZEROES, offset, count, flags),
                     nullptr));
}

void Client::block_status(std::uint64_t count, std::uint64_t offset, ExtentObserver observer,
                          std::uint32_t flags) {
  Callbacks c;
  c.extents = std::move(observer);
  check(handle_->run(engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags), &c));
}

void Client::shutdown(bool abandon_pending) { check(handle_->shutdown(abandon_pending)); }

// ---- asynchronous commands ----

std::uint64_t Client::aio_pread(std::span<std::byte> buf, std::uint64_t offset,
                                CompletionHandler on_done, std::uint32_t flags) {
  return value(handle_->submit(read_request(buf, offset, flags), with_completion(std::move(on_done))));
}

std::uint64_t Client::aio_pread(std::span<std::byte> buf, std::uint64_t offset,
                                ChunkObserver observer, CompletionHandler on_done,
                                std::uint32_t flags) {
  auto c = with_completion(std::move(on_done));
  c->chunk = std::move(observer);
  return value(handle_->submit(read_request(buf, offset, flags), std::move(c)));
}

std::uint64_t Client::aio_pwrite(std::span<const std::byte> buf, std::uint64_t offset,
                                 CompletionHandler on_done, std::uint32_t flags) {
  return value(
      handle_->submit(write_request(buf, offset, flags), with_completion(std::move(on_done))));
}

std::uint64_t Client::aio_flush(CompletionHandler on_done, std::uint32_t flags) {
  return value(handle_->submit(engine::make_request(wire::NBD_CMD_FLUSH, 0, 0, flags),
                               with_completion(std::move(on_done))));
}
std::uint64_t Client::aio_trim(std::uint64_t count, std::uint64_t offset,
                               CompletionHandler on_done, std::uint32_t flags) {
  return value(handle_->submit(engine::make_request(wire::NBD_CMD_TRIM, offset, count, flags),
                               with_completion(std::move(on_done))));
}
std::uint64_t Client::aio_cache(std::uint64_t count, std::uint64_t offset,
                                CompletionHandler on_done, std::uint32_t flags) {
  return value(handle_->submit(engine::make_request(wire::NBD_CMD_CACHE, offset, count, flags),
                               with_completion(std::move(on_done))));
}
std::uint64_t Client::aio_zero(std::uint64_t count, std::uint64_t offset,
                               CompletionHandler on_done, std::uint32_t flags) {
  return value(
      handle_->submit(engine::make_request(wire::NBD_CMD_WRITE_ZEROES, offset, count, flags),
                      with_completion(std::move(on_done))));
}
std::uint64_t Client::aio_block_status(std::uint64_t count, std::uint64_t offset,
                                       ExtentObserver observer, CompletionHandler on_done,
                                       std::uint32_t flags) {
  auto c = with_completion(std::move(on_done));
  c->extents = std::move(observer);
  return value(handle_->submit(
      engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags), std::move(c)));
}

void Client::aio_disconnect() { check(handle_->disconnect()); }
bool Client::command_completed(std::uint64_t cookie) {
  return value(handle_->command_completed(cookie));
}
std::optional<std::uint64_t> Client::peek_completed() const {
  auto r = handle_->peek_completed();
  if (!r || *r == 0) return std::nullopt;
  return static_cast<std::uint64_t>(*r);
}
std::size_t Client::in_flight() const { return handle_->in_flight(); }

// ---- driving the connection ----

bool Client::poll(int timeout_ms) { return value(handle_->poll(timeout_ms)) > 0; }
int Client::fd() const { return value(handle_->fd()); }
unsigned Client::wanted_direction() const { return handle_->direction(); }
void Client::notify_read() { check(handle_->notify_read()); }
void Client::notify_write() { check(handle_->notify_write()); }

Stats Client::stats() const {
  const auto s = handle_->stats();
  return {s.bytes_sent, s.bytes_received, s.chunks_sent, s.chunks_received};
}

}  // namespace nbdref
