#include "relay/conversation_recording.hpp"

#include <cstdio>
#include <stdexcept>

namespace nbdref::mock::relay {
namespace {

std::ofstream open_file(const std::string& path, std::ios::openmode mode) {
  std::ofstream file(path, mode | std::ios::trunc);
  if (!file) throw std::runtime_error("cannot write " + path);
  return file;
}

const char* side_name(Side side) {
  return side == Side::Client ? "client" : "server";
}

}  // namespace

std::string ConversationRecording::file_name(std::uint64_t connection, Side side) {
  return "conn-" + std::to_string(connection) + "." + side_name(side) + ".bin";
}

ConversationRecording::ConversationRecording(const std::string& dir, std::uint64_t connection)
    : client_(open_file(dir + "/" + file_name(connection, Side::Client), std::ios::binary)),
      server_(open_file(dir + "/" + file_name(connection, Side::Server), std::ios::binary)),
      timeline_(open_file(dir + "/conn-" + std::to_string(connection) + ".timeline", {})),
      start_(std::chrono::steady_clock::now()) {}

void ConversationRecording::sent(Side side, std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  std::ofstream& file = side == Side::Client ? client_ : server_;
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  file.flush();
  stamp(side, std::to_string(bytes.size()));
}

void ConversationRecording::ended(Side side, const std::string& why) {
  std::lock_guard lock(mutex_);
  stamp(side, "end: " + why);
}

// Called with mutex_ held.
void ConversationRecording::stamp(Side side, const std::string& what) {
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - start_;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "+%.6f", since.count());
  timeline_ << seconds << ' ' << side_name(side) << ' ' << what << '\n' << std::flush;
}

}  // namespace nbdref::mock::relay
