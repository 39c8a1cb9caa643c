#include "wire/constants.hpp"

#include <cstdio>

namespace nbdref::wire {
namespace {

#define NBDREF_NAME_CASE(name, value) \
  case (value):                       \
    return #name;

struct FlagName {
  std::uint32_t bit;
  const char* name;
};

#define NBDREF_FLAG_ENTRY(name, value) {(value), #name},

constexpr FlagName kHandshakeFlags[] = {NBDREF_HANDSHAKE_FLAGS(NBDREF_FLAG_ENTRY)};
constexpr FlagName kClientFlags[] = {NBDREF_CLIENT_FLAGS(NBDREF_FLAG_ENTRY)};
constexpr FlagName kTransmissionFlags[] = {NBDREF_TRANSMISSION_FLAGS(NBDREF_FLAG_ENTRY)};
constexpr FlagName kCommandFlags[] = {NBDREF_COMMAND_FLAGS(NBDREF_FLAG_ENTRY)};

#undef NBDREF_FLAG_ENTRY

template <std::size_t N>
std::string describe_flags(std::uint32_t flags, const FlagName (&table)[N]) {
  if (flags == 0) return "0";
  std::string out;
  for (const auto& f : table) {
    if (flags & f.bit) {
      if (!out.empty()) out += '|';
      out += f.name;
      flags &= ~f.bit;
    }
  }
  if (flags != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%#x", flags);
    if (!out.empty()) out += '|';
    out += buf;
  }
  return out;
}

std::string describe(const char* name, std::uint64_t v, const char* kind) {
  if (name) return std::string(name) + " (" + std::to_string(v) + ")";
  return std::string("unknown ") + kind + " " + std::to_string(v);
}

}  // namespace

const char* option_name(std::uint32_t v) {
  switch (v) { NBDREF_OPTIONS(NBDREF_NAME_CASE) }
  return nullptr;
}
const char* option_reply_name(std::uint32_t v) {
  switch (v) { NBDREF_OPTION_REPLIES(NBDREF_NAME_CASE) }
  return nullptr;
}
const char* info_name(std::uint16_t v) {
  switch (v) { NBDREF_INFO_TYPES(NBDREF_NAME_CASE) }
  return nullptr;
}
const char* command_name(std::uint16_t v) {
  switch (v) { NBDREF_COMMANDS(NBDREF_NAME_CASE) }
  return nullptr;
}
const char* reply_type_name(std::uint16_t v) {
  switch (v) { NBDREF_REPLY_TYPES(NBDREF_NAME_CASE) }
  return nullptr;
}
const char* error_name(std::uint32_t v) {
  switch (v) { NBDREF_ERRORS(NBDREF_NAME_CASE) }
  return nullptr;
}

#undef NBDREF_NAME_CASE

std::string describe_option(std::uint32_t v) {
  return describe(option_name(v), v, "option");
}
std::string describe_option_reply(std::uint32_t v) {
  return describe(option_reply_name(v), v, "option reply type");
}
std::string describe_command(std::uint16_t v) {
  return describe(command_name(v), v, "command");
}
std::string describe_reply_type(std::uint16_t v) {
  return describe(reply_type_name(v), v, "reply chunk type");
}

std::string describe_handshake_flags(std::uint16_t flags) {
  return describe_flags(flags, kHandshakeFlags);
}
std::string describe_client_flags(std::uint32_t flags) {
  return describe_flags(flags, kClientFlags);
}
std::string describe_transmission_flags(std::uint16_t flags) {
  return describe_flags(flags, kTransmissionFlags);
}
std::string describe_command_flags(std::uint16_t flags) {
  return describe_flags(flags, kCommandFlags);
}

}  // namespace nbdref::wire
