// Checks of the server's robustness against what a client may do at any
// time (proto.md "Terminating the transmission phase": either side may drop
// the connection): a client that hangs up with replies still in flight.
// Such a check may take the server down, so the catalogue runs it after
// every other check, and it judges the server's survival itself.
#include <thread>

#include "checks/areas.hpp"
#include "checks/transmission_support.hpp"
#include "probe/probe_error.hpp"
#include "wire/constants.hpp"

namespace nbdref::conform {
namespace {

using namespace wire;

// READs each hanging-up client sends, and the most each asks for.
constexpr std::size_t kReadsInFlight = 8;
constexpr std::uint64_t kLargeRead = std::uint64_t{4} << 20;
// Clients that hang up, one after another: a server that dies of it only
// sometimes gets several chances.
constexpr int kHangUps = 2;
// A hanging-up client shuts down its sending side first and closes the
// connection this much later, reading nothing meanwhile: the server sees
// the end of the requests while it is still writing replies.
constexpr auto kHalfClosed = std::chrono::milliseconds(400);
// How long a persistent server gets to notice a hang-up before it is
// looked at, and how long a server started for the connection gets to exit
// (it normally does at once).
constexpr auto kSettle = std::chrono::milliseconds(150);
constexpr auto kExitWait = std::chrono::seconds(2);

const char* const kRequired =
    "a client may hang up at any time; the server copes: the other sessions go on and new "
    "connections are served, and no server process dies of it (a server ends a session only on "
    "NBD_CMD_DISC, a client's breach of a MUST or its own shutdown) [S-TX-012]";

// A READ of the export's start on `e`, which must be served; a closed
// connection is the server's failure.
std::optional<std::string> read_refused(OpenExport& e, const std::string& which) {
  try {
    const TransmissionReply r =
        round_trip(e.probe, NBD_CMD_READ, 0, 0, std::min<std::uint64_t>(e.size, kTestBlock));
    if (r.error() != 0) return which + " had its READ refused: " + r.describe();
  } catch (const ProbeError& err) {
    if (err.kind() != ProbeError::Kind::Closed) throw;
    return which + " was closed by the server: " + err.what();
  }
  return std::nullopt;
}

// S-TX-012 (proto.md "Terminating the transmission phase"). Each client
// sends its READs, shuts down its sending side, waits without reading and
// closes. On a persistent server a session opened first, in transmission,
// must go on after each hang-up and a new connection must be served. A server started per
// connection serves nobody else, so there the process serving the client
// that hung up is watched: its death by a signal is the failure.
Outcome hang_up_with_replies_in_flight(CheckContext& ctx) {
  const bool persistent = ctx.target().persistent();
  std::optional<OpenExport> bystander;
  if (persistent) {
    bystander.emplace(ctx.open_export());
    if (auto problem = read_refused(*bystander, "the session opened first")) {
      throw CheckAbort{Status::Error, "the check cannot go on: " + *problem};
    }
  }
  const std::uint64_t limit = payload_limit(ctx);
  for (int attempt = 1; attempt <= kHangUps; ++attempt) {
    const std::string which = "after hang-up " + std::to_string(attempt) + " of " +
                              std::to_string(kHangUps) + " (" + std::to_string(kReadsInFlight) +
                              " READs in flight), ";
    {
      OpenExport client = ctx.open_export();
      // C-SZ-008: simple READs within the maximum payload.
      const std::uint64_t length = std::min({kLargeRead, limit, client.size});
      for (std::size_t i = 0; i < kReadsInFlight; ++i) {
        client.probe.send_request(NBD_CMD_READ, 0, 0, length);
      }
      client.probe.channel().half_close();
      std::this_thread::sleep_for(kHalfClosed);
      client.probe.channel().close_and_await_exit(kExitWait);
      if (client.probe.transcript().server_crashed()) {
        return ctx.fail(which +
                            "the server process serving that client was killed by a signal "
                            "(see the transcript)",
                        kRequired);
      }
    }
    if (!persistent) continue;
    std::this_thread::sleep_for(kSettle);
    if (auto problem = read_refused(*bystander, which + "the session opened before")) {
      return ctx.fail(*problem, kRequired);
    }
    try {
      OpenExport next = ctx.open_export();
      if (auto problem = read_refused(next, which + "a new connection")) {
        return ctx.fail(*problem, kRequired);
      }
    } catch (const ProbeError& err) {
      if (err.kind() != ProbeError::Kind::Connect && err.kind() != ProbeError::Kind::Closed) throw;
      return ctx.fail(which + "a new connection was not served: " + err.what(), kRequired);
    }
  }
  return ctx.pass(std::to_string(kHangUps) + " clients hung up with " +
                  std::to_string(kReadsInFlight) + " READs in flight each");
}

}  // namespace

void add_robustness_checks(Catalogue& c) {
  const std::string area = "robustness";
  Check hang_up{"rob.hang-up-with-replies-in-flight",
                area,
                {"S-TX-012"},
                Level::MustNot,
                "a client hanging up with large READs unanswered does not take the server down",
                &hang_up_with_replies_in_flight};
  hang_up.endangers_server = true;
  c.add(std::move(hang_up));
}

}  // namespace nbdref::conform
