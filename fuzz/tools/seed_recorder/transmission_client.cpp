#include "transmission_client.hpp"

#include <algorithm>

namespace nbdref::fuzz::recorder {

using namespace transmission;
using engine::Phase;

TransmissionClient::TransmissionClient(const Setup& setup, engine::Connection& conn)
    : setup_(setup), conn_(conn), contexts_(conn.session().meta_contexts) {}

bool TransmissionClient::ended() const {
  return conn_.phase() == Phase::Dead || conn_.phase() == Phase::Closed;
}

// As TransmissionRun::submit.
void TransmissionClient::submit(const SubmitFields& fields, bool from_end) {
  operations_.push_back(submit_operation(fields, from_end));
  if (commands_.size() == MAX_COMMANDS) return;
  auto& c =
      commands_.emplace_back(setup_.request(fields, from_end), contexts_, setup_.fail_callbacks);
  const auto cookie = conn_.submit(c.request());
  if (cookie) c.submitted(*cookie);
}

std::vector<std::uint8_t> TransmissionClient::send() {
  operations_.push_back({OP_SEND, {}});
  auto out = conn_.take_output();
  sent_.insert(sent_.end(), out.begin(), out.end());
  return out;
}

void TransmissionClient::receive(wire::Bytes bytes) {
  while (!bytes.empty()) {
    const auto piece = bytes.first(std::min(bytes.size(), MAX_RECEIVE));
    bytes = bytes.subspan(piece.size());
    receive_piece(piece);
  }
}

void TransmissionClient::receive_piece(wire::Bytes piece) {
  operations_.push_back({OP_RECEIVE, {piece.begin(), piece.end()}});
  conn_.feed(piece);
}

void TransmissionClient::disconnect(bool abandon) {
  operations_.push_back(
      {static_cast<std::uint8_t>(OP_DISCONNECT | (abandon ? OP_ABANDON : 0)), {}});
  (void)conn_.disconnect(abandon);
}

// As the end of TransmissionRun::play; not itself an operation.
std::vector<std::uint8_t> TransmissionClient::finish() {
  auto out = conn_.take_output();
  sent_.insert(sent_.end(), out.begin(), out.end());
  conn_.input_eof();
  const auto last = conn_.take_output();
  sent_.insert(sent_.end(), last.begin(), last.end());
  return out;
}

void TransmissionClient::play(const std::vector<Operation>& operations) {
  for (const Operation& op : operations) {
    switch (op.kind()) {
      case OperationKind::Submit:
        submit(submit_fields(op.body), op.tag & OP_FROM_END);
        break;
      case OperationKind::Send:
        send();
        break;
      case OperationKind::Receive:
        receive_piece(op.body);  // one operation, as written: never split again
        break;
      case OperationKind::Disconnect:
        disconnect(op.tag & OP_ABANDON);
        break;
    }
  }
  finish();
}

std::vector<std::uint8_t> TransmissionClient::received() const {
  std::vector<std::uint8_t> out;
  for (const Operation& op : operations_) {
    if (op.kind() == OperationKind::Receive) out.insert(out.end(), op.body.begin(), op.body.end());
  }
  return out;
}

std::vector<CommandResult> TransmissionClient::results() const {
  std::vector<CommandResult> out;
  for (const auto& c : commands_) {
    out.push_back({c.was_submitted(), c.completions(), c.outcome().errnum});
  }
  return out;
}

std::vector<Operation> with_received(std::vector<Operation> operations, wire::Bytes stream) {
  for (Operation& op : operations) {
    if (op.kind() != OperationKind::Receive) continue;
    const auto bytes = stream.first(std::min(op.body.size(), stream.size()));
    stream = stream.subspan(bytes.size());
    op.body.assign(bytes.begin(), bytes.end());
  }
  return operations;
}

}  // namespace nbdref::fuzz::recorder
