// Messages made from templates, for insertion into a stream: both
// greetings; option replies of every type, NBD_REP_INFO with each
// information type (and an unknown one); a simple reply; every chunk type
// with a plausible payload, in the structured or extended form; and the
// reply to NBD_OPT_EXPORT_NAME, which has no magic and so is raw bytes.
// Options, cookies and context ids come from the stream's facts when it
// has them. Every template's length fields agree with its payload.
#pragma once

#include "mutator/nbd_stream.hpp"
#include "mutator/random.hpp"
#include "mutator/stream_facts.hpp"

namespace nbdref::fuzz::mutator {

Message synthesize_message(MessageKind kind, Random& random, const StreamFacts& facts);

}  // namespace nbdref::fuzz::mutator
