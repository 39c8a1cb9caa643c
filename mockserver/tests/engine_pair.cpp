#include "engine_pair.hpp"

#include <cerrno>

#include <gtest/gtest.h>

namespace nbdref::mock::test {

EnginePair::EnginePair(ServeConfig server, engine::ConnectionConfig client)
    : client_(std::move(client)), server_(std::move(server)) {
  server_.start_with_greeting();
}

void EnginePair::pump() {
  for (int round = 0; round < 1'000'000; ++round) {
    bool moved = false;
    auto sent = client_.take_output();
    if (!sent.empty()) {
      to_server_.insert(to_server_.end(), sent.begin(), sent.end());
      moved = true;
    }
    if (!to_server_.empty() && !server_.finished()) {
      const std::size_t n = server_.feed(to_server_);
      to_server_.erase(to_server_.begin(), to_server_.begin() + static_cast<std::ptrdiff_t>(n));
      moved |= n > 0;
    }
    auto replies = server_.take_output();
    if (!replies.empty()) {
      client_.feed(replies);
      moved = true;
    }
    if (server_.finished() && !closed_) {
      // A runner closes the socket once the last reply is out.
      client_.input_eof();
      closed_ = true;
      moved = true;
    }
    if (!moved) return;
  }
  ADD_FAILURE() << "the conversation never went quiet";
}

engine::CommandOutcome EnginePair::run(engine::CommandRequest request, OutcomeListener* listener) {
  OutcomeListener own;
  if (!listener) listener = &own;
  request.listener = listener;
  const std::size_t before = listener->outcomes.size();
  auto cookie = client_.submit(request);
  if (!cookie) return {0, cookie.error().errnum, cookie.error().message};
  pump();
  if (listener->outcomes.size() != before + 1) {
    ADD_FAILURE() << "command " << *cookie << " did not complete exactly once";
    return {*cookie, EPROTO, "not completed"};
  }
  return listener->outcomes.back();
}

void OutcomeListener::on_extents(const engine::MetaContext&, std::uint64_t,
                                 std::span<const wire::BlockDescriptor> e, int&) {
  extents.insert(extents.end(), e.begin(), e.end());
}

void OutcomeListener::on_complete(const engine::CommandOutcome& outcome) {
  outcomes.push_back(outcome);
}

}  // namespace nbdref::mock::test
