#include "transmission_input.hpp"

#include <algorithm>
#include <utility>

#include "fuzz_input.hpp"
#include "wire/writer.hpp"

namespace nbdref::fuzz::transmission {

SubmitFields submit_fields(wire::Bytes body) {
  FuzzInput in(body);
  SubmitFields s;
  s.type_index = in.byte();
  s.flags = in.byte();
  s.offset = in.be32();
  s.length = in.be16();
  return s;
}

std::vector<std::uint8_t> submit_body(const SubmitFields& fields) {
  std::vector<std::uint8_t> out;
  wire::Writer w(out);
  w.u8(fields.type_index);
  w.u8(fields.flags);
  w.be32(fields.offset);
  w.be16(fields.length);
  return out;
}

Operation submit_operation(const SubmitFields& fields, bool from_end) {
  return {static_cast<std::uint8_t>(OP_SUBMIT | (from_end ? OP_FROM_END : 0)), submit_body(fields)};
}

TransmissionInput decode_transmission_input(wire::Bytes input) {
  TransmissionInput out;
  const std::size_t config = std::min(CONFIG_BYTES, input.size());
  out.config.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(config));
  std::size_t at = config;
  const auto take = [&](std::size_t n) {
    const auto part = input.subspan(at, std::min(n, input.size() - at));
    at += part.size();
    return std::vector<std::uint8_t>(part.begin(), part.end());
  };
  while (at < input.size()) {
    Operation op{input[at++], {}};
    if (op.kind() == OperationKind::Submit) {
      op.body = take(SUBMIT_BODY_SIZE);
    } else if (op.kind() == OperationKind::Receive) {
      const auto length = take(2);
      const std::size_t n = length.size() == 2 ? wire::load_be16(length.data()) : 0;
      op.body = take(n);
    }
    out.operations.push_back(std::move(op));
  }
  return out;
}

std::vector<std::uint8_t> encode_transmission_input(const TransmissionInput& input,
                                                    std::size_t max_size) {
  std::vector<std::uint8_t> out(input.config);
  out.resize(CONFIG_BYTES, 0);
  for (const Operation& op : input.operations) {
    const std::size_t room = max_size > out.size() ? max_size - out.size() : 0;
    if (op.kind() == OperationKind::Receive) {
      if (room < 3) break;
      const std::size_t n = std::min({op.body.size(), room - 3, MAX_RECEIVE});
      out.push_back(op.tag);
      out.push_back(static_cast<std::uint8_t>(n >> 8));
      out.push_back(static_cast<std::uint8_t>(n));
      out.insert(out.end(), op.body.begin(), op.body.begin() + static_cast<std::ptrdiff_t>(n));
      continue;
    }
    const std::size_t body = op.kind() == OperationKind::Submit ? SUBMIT_BODY_SIZE : 0;
    if (room < 1 + body) break;
    out.push_back(op.tag);
    out.insert(out.end(), op.body.begin(),
               op.body.begin() + static_cast<std::ptrdiff_t>(std::min(body, op.body.size())));
    out.resize(out.size() + body - std::min(body, op.body.size()), 0);
  }
  if (out.size() > max_size) out.resize(max_size);
  return out;
}

}  // namespace nbdref::fuzz::transmission
