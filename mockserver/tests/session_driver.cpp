#include "session_driver.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "wire/limits.hpp"
#include "wire/option_reply.hpp"
#include "wire/option_request.hpp"

namespace nbdref::mock::test {

using namespace wire;

std::uint32_t Reply::error_value() const {
  if (simple) return error;
  for (const auto& c : chunks) {
    if (is_error_chunk(c.header.type)) {
      auto e = decode_error_chunk(c.header.type, c.payload);
      return e ? e->error : 0xffffffff;
    }
  }
  return 0;
}

std::string Reply::error_message() const {
  for (const auto& c : chunks) {
    if (is_error_chunk(c.header.type)) {
      auto e = decode_error_chunk(c.header.type, c.payload);
      return e ? std::string(e->message) : "(undecodable: " + e.error().to_string() + ")";
    }
  }
  return {};
}

ServedExport test_export(std::string name, std::uint64_t size, std::string description) {
  ExportConfig c;
  c.name = std::move(name);
  c.description = std::move(description);
  c.size = size;
  return make_served_export(std::move(c));
}

ServeConfig default_config() {
  ServeConfig c;
  c.exports.push_back(test_export("disk", 1 << 20, "a test disk"));
  return c;
}

ByteVector pattern(std::size_t n, std::uint8_t seed) {
  ByteVector v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 9));
  return v;
}

namespace {

// Every test serves a sound configuration.
ServeConfig checked(ServeConfig config) {
  EXPECT_EQ(config_problem(config), std::nullopt);
  return config;
}

}  // namespace

SessionDriver::SessionDriver(ServeConfig config, FeedMode mode)
    : session_(checked(std::move(config))), mode_(mode) {}

std::size_t SessionDriver::send(const ByteVector& bytes) {
  // Pieces per mode; a piece the session does not take whole (output above
  // its high-water mark) is offered again once the output was collected.
  const Bytes all(bytes);
  std::size_t taken = 0;
  for (Bytes piece : nbdref::test::feed_pieces(mode_, all)) {
    while (!piece.empty()) {
      const std::size_t n = session_.feed(piece);
      taken += n;
      piece = piece.subspan(n);
      if (session_.finished()) {
        // A runner would still offer what it read past the end.
        if (taken < all.size()) session_.feed(all.subspan(taken));
        return taken;
      }
      if (n == 0) {
        if (session_.output_size() == 0) {
          ADD_FAILURE() << "the session took nothing and has no output to drain";
          return taken;
        }
        pull();
      }
    }
  }
  return taken;
}

void SessionDriver::send_client_flags(std::uint32_t flags) {
  ByteVector out;
  Writer w(out);
  encode_client_flags(flags, w);
  EXPECT_EQ(send(out), out.size());
}

void SessionDriver::send_option(std::uint32_t option, const ByteVector& data) {
  ByteVector out;
  Writer w(out);
  encode_option_request(option, data, w);
  send(out);
}

void SessionDriver::send_request(const RequestHeader& h, const ByteVector& payload) {
  ByteVector out(extended_ ? EXTENDED_REQUEST_SIZE : COMPACT_REQUEST_SIZE);
  if (extended_) {
    encode_extended_request(h, out.data());
  } else {
    encode_compact_request(h, out.data());
  }
  out.insert(out.end(), payload.begin(), payload.end());
  send(out);
}

void SessionDriver::pull() {
  const auto out = session_.take_output();
  received_.insert(received_.end(), out.begin(), out.end());
}

ByteVector SessionDriver::take(std::size_t n) {
  pull();
  if (received_.size() - read_ < n) {
    ADD_FAILURE() << "server sent " << received_.size() - read_ << " more bytes, expected " << n;
    read_ = received_.size();
    return ByteVector(n, 0);
  }
  ByteVector out(received_.begin() + static_cast<std::ptrdiff_t>(read_),
                 received_.begin() + static_cast<std::ptrdiff_t>(read_ + n));
  read_ += n;
  return out;
}

bool SessionDriver::server_silent() {
  pull();
  return read_ == received_.size();
}

OptionReply SessionDriver::option_reply() {
  auto h = decode_option_reply_header(take(OPTION_REPLY_HEADER_SIZE));
  if (!h) {
    ADD_FAILURE() << "bad option reply header: " << h.error().to_string();
    return {};
  }
  return {h->option, h->reply_type, take(h->length)};
}

std::vector<OptionReply> SessionDriver::option_replies() {
  std::vector<OptionReply> out;
  for (;;) {
    out.push_back(option_reply());
    const auto type = out.back().type;
    if (type == NBD_REP_ACK || is_error_reply(type) || type == 0) return out;
  }
}

Reply SessionDriver::reply(std::uint64_t read_length) {
  Reply r;
  const auto magic_bytes = take(REPLY_MAGIC_SIZE);
  const auto kind = classify_reply_magic(load_be32(magic_bytes.data()));
  if (!kind) {
    ADD_FAILURE() << "bad reply: " << kind.error().to_string();
    return r;
  }
  const auto header = [&] {
    auto rest = take(reply_header_size(*kind) - REPLY_MAGIC_SIZE);
    ByteVector whole = magic_bytes;
    whole.insert(whole.end(), rest.begin(), rest.end());
    return whole;
  };
  if (*kind == ReplyKind::Simple) {
    auto s = decode_simple_reply(header());
    r.simple = true;
    r.error = s->error;
    if (s->error == 0) r.data = take(read_length);
    return r;
  }
  for (;;) {
    auto h = *kind == ReplyKind::Structured ? decode_structured_reply_header(header())
                                            : decode_extended_reply_header(header());
    if (!h) {
      ADD_FAILURE() << h.error().to_string();
      return r;
    }
    r.chunks.push_back({*h, take(h->length)});
    if (h->flags & NBD_REPLY_FLAG_DONE) return r;
    const auto next = take(REPLY_MAGIC_SIZE);
    if (next != magic_bytes) {
      ADD_FAILURE() << "a reply switched header forms between chunks";
      return r;
    }
  }
}

void SessionDriver::open(std::uint32_t client_flags) {
  session_.start_with_greeting();
  auto g = decode_newstyle_greeting(take(NEWSTYLE_GREETING_SIZE));
  EXPECT_TRUE(g.has_value());
  send_client_flags(client_flags);
}

void SessionDriver::expect_ack(std::uint32_t option, const ByteVector& data) {
  send_option(option, data);
  const auto r = option_reply();
  EXPECT_EQ(r.option, option);
  EXPECT_EQ(r.type, NBD_REP_ACK) << describe_option_reply(r.type) << ": " << r.text();
  EXPECT_TRUE(r.payload.empty());
}

void SessionDriver::connect(ReplyStyle style, bool allocation, std::string_view name) {
  open();
  if (style == ReplyStyle::Extended) expect_ack(NBD_OPT_EXTENDED_HEADERS);
  if (style == ReplyStyle::Structured) expect_ack(NBD_OPT_STRUCTURED_REPLY);
  if (allocation) {
    send_option(NBD_OPT_SET_META_CONTEXT, meta_request(name, {"base:allocation"}));
    const auto replies = option_replies();
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].type, NBD_REP_META_CONTEXT);
  }
  send_option(NBD_OPT_GO, info_request(name));
  const auto replies = option_replies();
  ASSERT_FALSE(replies.empty());
  EXPECT_EQ(replies.back().type, NBD_REP_ACK) << replies.back().text();
  ASSERT_EQ(session_.phase(), SessionPhase::Transmission);
  extended_ = style == ReplyStyle::Extended;
}

ByteVector info_request(std::string_view name, std::vector<std::uint16_t> types) {
  ByteVector out;
  Writer w(out);
  encode_info_request({name, std::move(types)}, w);
  return out;
}

ByteVector meta_request(std::string_view name, std::vector<std::string_view> queries) {
  ByteVector out;
  Writer w(out);
  encode_meta_context_request({name, std::move(queries)}, w);
  return out;
}

RequestHeader request(std::uint16_t type, std::uint64_t offset, std::uint64_t length,
                      std::uint16_t flags, std::uint64_t cookie) {
  return RequestHeader{flags, type, cookie, offset, length};
}

}  // namespace nbdref::mock::test
