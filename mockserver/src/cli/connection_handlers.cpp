#include "connection_handlers.hpp"

#include <memory>
#include <utility>

#include "server/export_store.hpp"
#include "server/transcript.hpp"

namespace nbdref::mock::cli {

ScriptConnections::ScriptConnections(const script::Script& script,
                                     std::chrono::milliseconds timeout, Reporting reporting)
    : script_(script), reporting_(reporting) {
  options_.default_timeout = timeout;
  options_.disks = std::make_shared<ExportStore>();
}

bool ScriptConnections::play(Channel& channel, std::uint64_t number) {
  Transcript transcript;
  PlayOptions options = options_;
  if (reporting_.transcript) options.transcript = &transcript;
  const Verdict verdict = mock::play(script_, channel, options);

  std::lock_guard lock(mutex_);
  *reporting_.verdicts << "nbdref-mock: connection " << number << ": "
                       << (verdict.passed() ? "" : "FAILED: ") << verdict.describe() << '\n'
                       << std::flush;
  if (reporting_.transcript) {
    *reporting_.transcript << "== connection " << number << " ==\n"
                           << transcript.text(reporting_.transcript_bytes) << std::flush;
  }
  return verdict.passed();
}

RelayConnections::RelayConnections(relay::RelayOptions options, std::ostream& verdicts)
    : options_(std::move(options)), verdicts_(verdicts) {}

bool RelayConnections::relay(Channel& channel, std::uint64_t number) {
  const relay::RelayReport report = relay::relay_connection(channel, number, options_);
  std::lock_guard lock(mutex_);
  verdicts_ << "nbdref-mock: connection " << number << ": " << (report.passed() ? "" : "FAILED: ")
            << report.describe() << '\n'
            << std::flush;
  return report.passed();
}

}  // namespace nbdref::mock::cli
