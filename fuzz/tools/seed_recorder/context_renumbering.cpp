#include "context_renumbering.hpp"

#include <algorithm>

#include "wire/bytes.hpp"
#include "wire/constants.hpp"
#include "wire/reply.hpp"

namespace nbdref::fuzz::recorder {

using namespace wire;

void ContextIdMap::map(std::uint32_t from, std::uint32_t to) {
  // Swap the images of `from` and of whatever mapped to `to` so far.
  const std::uint32_t old_image = (*this)(from);
  const auto before = backward_.find(to);
  const std::uint32_t old_source = before == backward_.end() ? to : before->second;
  forward_[from] = to;
  backward_[to] = from;
  forward_[old_source] = old_image;
  backward_[old_image] = old_source;
}

std::uint32_t ContextIdMap::operator()(std::uint32_t id) const {
  const auto found = forward_.find(id);
  return found == forward_.end() ? id : found->second;
}

void renumber_contexts(std::vector<std::uint8_t>& stream,
                       const std::deque<TrackedCommand>& commands, bool structured_replies,
                       const ContextIdMap& ids) {
  const auto request_of = [&](std::uint64_t cookie) -> const engine::CommandRequest* {
    for (const auto& c : commands) {
      if (c.was_submitted() && c.cookie() == cookie) return &c.request();
    }
    return nullptr;
  };
  std::size_t at = 0;
  while (stream.size() - at >= 4) {
    const auto kind = classify_reply_magic(load_be32(&stream[at]));
    if (!kind) return;
    const std::size_t header_size = reply_header_size(*kind);
    if (stream.size() - at < header_size) return;
    const Bytes header(&stream[at], header_size);
    if (*kind == ReplyKind::Simple) {
      const auto reply = decode_simple_reply(header);
      if (!reply) return;
      at += header_size;
      const auto* r = request_of(reply->cookie);
      if (r && r->type == NBD_CMD_READ && reply->error == 0 && !structured_replies) {
        at += static_cast<std::size_t>(std::min<std::uint64_t>(r->length, stream.size() - at));
      }
      continue;
    }
    const auto chunk = *kind == ReplyKind::Structured ? decode_structured_reply_header(header)
                                                      : decode_extended_reply_header(header);
    if (!chunk || chunk->length > stream.size()) return;
    at += header_size;
    const bool status = chunk->type == NBD_REPLY_TYPE_BLOCK_STATUS ||
                        chunk->type == NBD_REPLY_TYPE_BLOCK_STATUS_EXT;
    if (status && chunk->length >= 4 && stream.size() - at >= 4) {
      store_be32(&stream[at], ids(load_be32(&stream[at])));
    }
    at += static_cast<std::size_t>(std::min<std::uint64_t>(chunk->length, stream.size() - at));
  }
}

}  // namespace nbdref::fuzz::recorder
