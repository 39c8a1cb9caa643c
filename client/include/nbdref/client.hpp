// nbdref's C++ API: an NBD client handle with RAII, std::span buffers and
// exceptions. Every failure throws nbdref::ClientError carrying the errno
// value libnbd would report and a message naming what went wrong.
//
//   nbdref::Client c;
//   c.connect_unix("/tmp/nbd.sock");
//   std::vector<std::byte> buf(512);
//   c.pread(buf, 0);
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#define NBDREF_PUBLIC __attribute__((visibility("default")))

namespace nbdref {

namespace handle {
class Handle;
}

class NBDREF_PUBLIC ClientError : public std::runtime_error {
 public:
  ClientError(int errnum, const std::string& message);
  // The errno value: EINVAL for a bad request, EPROTO when the server broke
  // the protocol, the server's error translated for failed commands, ...
  int errnum() const noexcept { return errnum_; }

 private:
  int errnum_;
};

// Command flags (the values of libnbd's LIBNBD_CMD_FLAG_*).
namespace command_flag {
inline constexpr std::uint32_t fua = 0x01;
inline constexpr std::uint32_t no_hole = 0x02;
inline constexpr std::uint32_t df = 0x04;
inline constexpr std::uint32_t req_one = 0x08;
inline constexpr std::uint32_t fast_zero = 0x10;
}  // namespace command_flag

// Client-side checks (the values of libnbd's LIBNBD_STRICT_*).
namespace strict {
inline constexpr std::uint32_t commands = 0x01;
inline constexpr std::uint32_t flags = 0x02;
inline constexpr std::uint32_t bounds = 0x04;
inline constexpr std::uint32_t zero_size = 0x08;
inline constexpr std::uint32_t align = 0x10;
inline constexpr std::uint32_t all = 0x1f;
}  // namespace strict

enum class BlockSize { Minimum = 0, Preferred = 1, Maximum = 2 };

// How a piece of a read arrived.
enum class ReadChunkKind { Data = 1, Hole = 2, Error = 3 };

// One extent of a block status answer, with its absolute offset.
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t flags = 0;  // for base:allocation: 1 hole, 2 reads as zero
};

// Sees each piece of a read as it lands in the buffer; return 0, or an
// errno value to fail the read.
using ChunkObserver =
    std::function<int(std::span<const std::byte> data, std::uint64_t offset, ReadChunkKind kind)>;
// Receives the extents of one metadata context; return 0, or an errno to fail.
using ExtentObserver = std::function<int(std::string_view context, std::span<const Extent>)>;
using DebugObserver = std::function<void(std::string_view context, std::string_view message)>;

class NBDREF_PUBLIC Client {
 public:
  Client();
  // Closes the connection abruptly if it is still open.
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- identity and debugging ----
  std::string name() const;
  void set_name(std::string_view name);
  void set_debug(bool on);
  void set_debug_observer(DebugObserver observer);  // empty: print to stderr

  // ---- settings, before connecting ----
  void set_export_name(std::string_view name);
  std::string export_name() const;
  void set_full_info(bool on);
  void set_request_block_size(bool on);
  void set_request_structured_replies(bool on);
  void set_request_extended_headers(bool on);
  void set_handshake_flags(std::uint32_t flags);
  void set_strict_mode(std::uint32_t flags);
  void set_pread_initialize(bool on);
  void add_meta_context(std::string_view name);

  // ---- connecting: each returns once the export is ready ----
  void connect_unix(const std::string& path);
  void connect_tcp(const std::string& host, const std::string& port = "10809");
  // Takes ownership of an already-connected socket.
  void connect_socket(int fd);
  // Runs argv with its stdin and stdout connected to the client; the
  // process is killed and reaped when the client is destroyed.
  void connect_command(std::vector<std::string> argv);

  // ---- what the server said ----
  std::string state() const;  // "created", "ready", "closed", ...
  std::uint64_t size() const;
  bool is_read_only() const;
  bool is_rotational() const;
  bool can_flush() const;
  bool can_fua() const;
  bool can_trim() const;
  bool can_zero() const;
  bool can_fast_zero() const;
  bool can_df() const;
  bool can_multi_conn() const;
  bool can_cache() const;
  bool can_meta_context(std::string_view context) const;
  std::string protocol() const;
  std::uint32_t block_size(BlockSize which) const;  // 0 when not advertised
  std::string canonical_export_name() const;
  std::string export_description() const;
  bool structured_replies_negotiated() const;
  bool extended_headers_negotiated() const;

  // ---- commands ----
  void pread(std::span<std::byte> buf, std::uint64_t offset, std::uint32_t flags = 0);
  void pread(std::span<std::byte> buf, std::uint64_t offset, const ChunkObserver& observer,
             std::uint32_t flags = 0);
  void pwrite(std::span<const std::byte> buf, std::uint64_t offset, std::uint32_t flags = 0);
  void flush(std::uint32_t flags = 0);
  void trim(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void cache(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void zero(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void block_status(std::uint64_t count, std::uint64_t offset, const ExtentObserver& observer,
                    std::uint32_t flags = 0);
  // Ends the connection politely and waits for it to close.
  void shutdown(bool abandon_pending = false);

 private:
  std::unique_ptr<handle::Handle> handle_;
};

}  // namespace nbdref
