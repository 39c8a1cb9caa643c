// Parsing of the benchmark's command line.
#include "bench_options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "usage_error.hpp"

namespace nbdref::bench {
namespace {

// NBD requests carry 32-bit lengths and servers commonly cap payloads at
// 32 MiB; larger blocks would only measure a refusal.
constexpr std::uint64_t kMaxBlockSize = std::uint64_t{32} << 20;
constexpr unsigned kMaxInFlight = 4096;
constexpr unsigned kMaxConnections = 64;

unsigned parse_count(const std::string& option, const std::string& text, unsigned max) {
  const std::uint64_t value = parse_byte_count(option, text);
  if (value < 1 || value > max) {
    throw UsageError(option + " must be between 1 and " + std::to_string(max) + ", not " + text);
  }
  return static_cast<unsigned>(value);
}

double parse_seconds(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(value) || value <= 0) {
    throw UsageError("--seconds needs a positive number of seconds, not '" + text + "'");
  }
  return value;
}

// Walks argv; an option's value is the next word or joined with '='.
class Words {
 public:
  explicit Words(std::span<const char* const> args) : args_(args) {}
  bool done() const { return next_ >= args_.size(); }
  std::string take() {
    std::string word = args_[next_++];
    joined_.reset();
    if (word.starts_with("--")) {
      if (const auto eq = word.find('='); eq != std::string::npos) {
        joined_ = word.substr(eq + 1);
        word.resize(eq);
      }
    }
    return word;
  }
  std::string value_of(const std::string& option) {
    if (joined_) {
      std::string value = *joined_;
      joined_.reset();
      return value;
    }
    if (done()) throw UsageError(option + " needs a value");
    return args_[next_++];
  }
  void refuse_joined_value(const std::string& option) const {
    if (joined_) throw UsageError(option + " takes no value");
  }

 private:
  std::span<const char* const> args_;
  std::size_t next_ = 0;
  std::optional<std::string> joined_;
};

void check_consistency(const BenchOptions& o) {
  if (o.copy_mode()) {
    if (!o.uri.empty()) throw UsageError("--copy takes the two URIs; no other URI is expected");
    if (o.synchronous) throw UsageError("--copy is asynchronous; --sync does not apply");
    if (o.verify) {
      throw UsageError("--verify does not apply to --copy (read the destination with --verify)");
    }
    if (o.bytes) throw UsageError("--copy copies the whole export; --bytes does not apply");
    return;
  }
  if (o.uri.empty()) throw UsageError("an NBD URI is needed (or --copy SRC-URI DST-URI)");
  if (o.bytes && *o.bytes % o.block_size != 0) {
    throw UsageError("--bytes must be a whole number of blocks of " + std::to_string(o.block_size) +
                     " bytes");
  }
  if (o.verify && o.block_size % 8 != 0) {
    throw UsageError("--verify needs a block size that is a multiple of 8");
  }
}

}  // namespace

std::uint64_t parse_byte_count(const std::string& option, const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view suffix = std::string_view(text).substr(digits);
  unsigned shift = 0;
  if (suffix == "k" || suffix == "K" || suffix == "KiB") {
    shift = 10;
  } else if (suffix == "m" || suffix == "M" || suffix == "MiB") {
    shift = 20;
  } else if (suffix == "g" || suffix == "G" || suffix == "GiB") {
    shift = 30;
  } else if (!suffix.empty()) {
    throw UsageError(option + ": '" + text + "' is not a number (with k, M or G)");
  }
  if (digits == 0 || digits > 15) {
    throw UsageError(option + ": '" + text + "' is not a number (with k, M or G)");
  }
  const std::uint64_t number = std::stoull(text.substr(0, digits));
  if (shift > 0 && number > (~std::uint64_t{0} >> shift)) {
    throw UsageError(option + ": '" + text + "' is too large");
  }
  return number << shift;
}

BenchOptions parse_bench_options(std::span<const char* const> args) {
  BenchOptions o;
  Words words(args);
  while (!words.done()) {
    const std::string word = words.take();
    if (word == "--pattern") {
      const std::string v = words.value_of(word);
      if (v == "seq") {
        o.pattern = AccessPattern::Sequential;
      } else if (v == "rand") {
        o.pattern = AccessPattern::Random;
      } else {
        throw UsageError("--pattern is seq or rand, not '" + v + "'");
      }
    } else if (word == "--op") {
      const std::string v = words.value_of(word);
      if (v == "read") {
        o.op = Operation::Read;
      } else if (v == "write") {
        o.op = Operation::Write;
      } else {
        throw UsageError("--op is read or write, not '" + v + "'");
      }
    } else if (word == "--block-size") {
      const std::string v = words.value_of(word);
      o.block_size = parse_byte_count(word, v);
      if (o.block_size < 1 || o.block_size > kMaxBlockSize) {
        throw UsageError("--block-size must be between 1 and 32M, not " + v);
      }
    } else if (word == "--in-flight") {
      o.in_flight = parse_count(word, words.value_of(word), kMaxInFlight);
    } else if (word == "--connections") {
      o.connections = parse_count(word, words.value_of(word), kMaxConnections);
    } else if (word == "--sync") {
      words.refuse_joined_value(word);
      o.synchronous = true;
    } else if (word == "--seconds") {
      o.seconds = parse_seconds(words.value_of(word));
    } else if (word == "--bytes") {
      o.bytes = parse_byte_count(word, words.value_of(word));
    } else if (word == "--verify") {
      words.refuse_joined_value(word);
      o.verify = true;
    } else if (word == "--seed") {
      o.seed = parse_byte_count(word, words.value_of(word));
    } else if (word == "--quiet") {
      words.refuse_joined_value(word);
      o.quiet = true;
    } else if (word == "--copy") {
      o.copy_source = words.value_of(word);
      if (words.done()) throw UsageError("--copy needs a source and a destination URI");
      o.copy_destination = words.take();
    } else if (word.starts_with("-")) {
      throw UsageError("unknown option " + word);
    } else if (o.uri.empty()) {
      o.uri = word;
    } else {
      throw UsageError("one URI only: '" + word + "' is extra");
    }
  }
  check_consistency(o);
  return o;
}

std::string bench_usage(const char* program) {
  const std::string p = program;
  return "usage: " + p + " [OPTIONS] URI\n" +  //
         "       " + p + " [OPTIONS] --copy SRC-URI DST-URI\n" +
         "Measures an NBD client library: throughput, requests per second and its own\n"
         "CPU time (getrusage) per GiB and per request.\n"
         "  --pattern seq|rand     offsets in order or uniformly random (seq)\n"
         "  --op read|write        the request (read)\n"
         "  --block-size N         bytes per request: 4k, 64k, 256k, 1M... (4k)\n"
         "  --in-flight N          requests in flight per connection (64)\n"
         "  --connections N        connections (multi-conn), one thread each (1)\n"
         "  --sync                 nbd_pread / nbd_pwrite one at a time; reports latency\n"
         "  --seconds S            run for S seconds (2)\n"
         "  --bytes N              move N bytes in all instead (0: connect only)\n"
         "  --verify               writes write the offset pattern, reads check it\n"
         "  --seed N               seed of the random offsets (1)\n"
         "  --copy SRC DST         copy the whole of SRC to DST with --block-size,\n"
         "                         --in-flight and --connections\n"
         "  --quiet                print only the 'result' line\n"
         "The last line is 'result key=value ...' for scripts.\n";
}

}  // namespace nbdref::bench
