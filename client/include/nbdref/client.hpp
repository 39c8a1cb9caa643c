// nbdref's C++ API: an NBD client handle with RAII, std::span buffers and
// exceptions. Every failure throws nbdref::ClientError carrying the errno
// value libnbd would report and a message naming what went wrong.
//
//   nbdref::Client c;
//   c.connect_unix("/tmp/nbd.sock");
//   std::vector<std::byte> buf(512);
//   c.pread(buf, 0);
//
// Asynchronous commands return a cookie and call a move-only completion
// handler from inside poll(); the client owns every handler until the
// command is retired, and destroys it then (or when the client closes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nbdref/unique_function.hpp"

#define NBDREF_PUBLIC __attribute__((visibility("default")))

namespace nbdref {

namespace handle {
class Handle;
}
namespace uri {
class EndpointRecord;
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

// One extent of a block status answer, with its absolute offset; lengths
// and flags are 64 bits wide whatever the server's header form.
struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t flags = 0;  // for base:allocation: 1 hole, 2 reads as zero
};

enum class Tls { Disable = 0, Allow = 1, Require = 2 };

// What the server listed for NBD_OPT_LIST.
struct ExportEntry {
  std::string name;
  std::string description;
};

// Traffic so far; a chunk is one message that starts with a magic number.
struct Stats {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t chunks_sent = 0;
  std::uint64_t chunks_received = 0;
};

// Sees each piece of a read as it lands in the buffer; return 0, or an
// errno value to fail the read.
using ChunkObserver =
    UniqueFunction<int(std::span<const std::byte> data, std::uint64_t offset, ReadChunkKind kind)>;
// Receives the extents of one metadata context; return 0, or an errno to fail.
using ExtentObserver = UniqueFunction<int(std::string_view context, std::span<const Extent>)>;
using DebugObserver = UniqueFunction<void(std::string_view context, std::string_view message)>;
// Called once when an asynchronous command or option ends, with 0 or the
// errno it failed with. Return true to retire a command at once, false to
// keep it for command_completed() (options ignore the value).
using CompletionHandler = UniqueFunction<bool(int errnum)>;

// Which way the connection wants to go next (libnbd's LIBNBD_AIO_DIRECTION_*).
namespace direction {
inline constexpr unsigned read = 1;
inline constexpr unsigned write = 2;
}  // namespace direction

// The transports an NBD URI may name (libnbd's LIBNBD_ALLOW_TRANSPORT_*),
// for Client::set_uri_allow_transports.
namespace uri_transport {
inline constexpr std::uint32_t tcp = 0x01;
inline constexpr std::uint32_t unix_socket = 0x02;
inline constexpr std::uint32_t vsock = 0x04;
inline constexpr std::uint32_t all = 0x07;
}  // namespace uri_transport

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
  void set_opt_mode(bool on);
  void add_meta_context(std::string_view name);
  std::vector<std::string> meta_contexts() const;
  void clear_meta_contexts();
  // TLS (GnuTLS). Allow tries NBD_OPT_STARTTLS first and goes on in
  // plaintext when the server cannot; Require never sends an export name or
  // data in the clear, and fails to connect instead. Certificates come from
  // a directory (ca-cert.pem, client-cert.pem + client-key.pem, ca-crl.pem;
  // by default $HOME/.pki/libnbd, then $HOME/.config/pki/libnbd, /etc/pki/libnbd
  // for root, else the system's CAs), or a psktool file holds pre-shared
  // keys (the username defaults to $LOGNAME). The server's certificate must
  // name the host given to connect_tcp unless set_tls_verify_peer(false).
  // A build without TLS (supports_tls() false) throws ENOTSUP for anything
  // but Tls::Disable.
  static bool supports_tls();
  void set_tls(Tls mode);
  void set_tls_certificates(const std::string& directory);
  void set_tls_verify_peer(bool verify);
  void set_tls_username(const std::string& username);
  void set_tls_psk_file(const std::string& path);

  // ---- connecting: each returns once the export is ready ----
  void connect_unix(const std::string& path);
  void connect_tcp(const std::string& host, const std::string& port = "10809");
  // Takes ownership of an already-connected socket.
  void connect_socket(int fd);
  // Runs argv with its stdin and stdout connected to the client; the
  // process is killed and reaped when the client is destroyed.
  void connect_command(std::vector<std::string> argv);
  // Runs argv with a listening socket handed over the systemd way
  // (LISTEN_FDS), as qemu-nbd and nbdkit accept it.
  void connect_systemd_socket_activation(std::vector<std::string> argv);
  void connect_vsock(std::uint32_t cid, std::uint32_t port);

  // ---- connecting without waiting: poll() (or the notify calls) go on ----
  void aio_connect_unix(const std::string& path);
  void aio_connect_tcp(const std::string& host, const std::string& port = "10809");
  void aio_connect_socket(int fd);
  void aio_connect_command(std::vector<std::string> argv);
  // Signals the server started by connect_command (0 means SIGTERM).
  void kill_subprocess(int signum = 0);

  // ---- NBD URIs (uri.md): nbd://HOST[:PORT]/EXPORT, nbds://...,
  // nbd+unix:///EXPORT?socket=PATH, nbd+vsock://CID[:PORT]/EXPORT ----
  // Whether this build reads URIs (libxml2); without, the calls below
  // throw ENOTSUP.
  static bool supports_uri();
  // What a URI may ask for, before connecting: the transports (uri_transport
  // bits; all by default), TLS (Tls::Allow by default: either; Disable
  // refuses nbds URIs, Require refuses the others) and references to local
  // files (tls-certificates, tls-psk-file; refused by default). A URI the
  // policy refuses throws EPERM.
  void set_uri_allow_transports(std::uint32_t mask);
  void set_uri_allow_tls(Tls policy);
  void set_uri_allow_local_file(bool allow);
  // Sets the export name and TLS settings the URI carries, then connects
  // (and waits, for connect_uri). A malformed URI throws EINVAL naming what
  // is wrong; one that needs TLS throws ENOTSUP while TLS is unsupported.
  void connect_uri(const std::string& uri);
  void aio_connect_uri(const std::string& uri);
  // A URI that reaches the server of a connection made by connect_uri or
  // aio_connect_uri, with the current export name and TLS settings.
  std::string get_uri() const;

  // ---- option mode (set_opt_mode(true) before connecting) ----
  void opt_go();
  void opt_abort();
  void opt_info();
  std::vector<ExportEntry> opt_list();
  std::vector<std::string> opt_list_meta_context();
  std::vector<std::string> opt_set_meta_context();
  bool opt_structured_reply();  // true when the server agreed
  bool opt_extended_headers();
  // NBD_OPT_STARTTLS and the handshake: true when TLS is now up (what was
  // negotiated before is forgotten and negotiated again), false when the
  // server declined. Throws EINVAL when TLS is already up, ENOTSUP without
  // TLS support, and the handshake's error (the client is then dead).
  bool opt_starttls();
  void aio_opt_starttls(CompletionHandler on_done = {});
  void aio_opt_go(CompletionHandler on_done = {});
  void aio_opt_info(CompletionHandler on_done = {});
  void aio_opt_abort();

  // ---- what the server said ----
  std::string state() const;  // "created", "ready", "closed", ...
  bool is_created() const;
  bool is_connecting() const;
  bool is_negotiating() const;
  bool is_ready() const;
  bool is_processing() const;
  bool is_dead() const;
  bool is_closed() const;
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
  bool tls_negotiated() const;  // everything since the handshake went over TLS

  // ---- commands ----
  void pread(std::span<std::byte> buf, std::uint64_t offset, std::uint32_t flags = 0);
  void pread(std::span<std::byte> buf, std::uint64_t offset, ChunkObserver observer,
             std::uint32_t flags = 0);
  void pwrite(std::span<const std::byte> buf, std::uint64_t offset, std::uint32_t flags = 0);
  void flush(std::uint32_t flags = 0);
  void trim(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void cache(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void zero(std::uint64_t count, std::uint64_t offset, std::uint32_t flags = 0);
  void block_status(std::uint64_t count, std::uint64_t offset, ExtentObserver observer,
                    std::uint32_t flags = 0);
  // Ends the connection politely and waits for it to close.
  void shutdown(bool abandon_pending = false);

  // ---- asynchronous commands: each returns its cookie ----
  // Buffers must stay valid until the command ends.
  std::uint64_t aio_pread(std::span<std::byte> buf, std::uint64_t offset,
                          CompletionHandler on_done = {}, std::uint32_t flags = 0);
  std::uint64_t aio_pread(std::span<std::byte> buf, std::uint64_t offset, ChunkObserver observer,
                          CompletionHandler on_done, std::uint32_t flags = 0);
  std::uint64_t aio_pwrite(std::span<const std::byte> buf, std::uint64_t offset,
                           CompletionHandler on_done = {}, std::uint32_t flags = 0);
  std::uint64_t aio_flush(CompletionHandler on_done = {}, std::uint32_t flags = 0);
  std::uint64_t aio_trim(std::uint64_t count, std::uint64_t offset, CompletionHandler on_done = {},
                         std::uint32_t flags = 0);
  std::uint64_t aio_cache(std::uint64_t count, std::uint64_t offset,
                          CompletionHandler on_done = {}, std::uint32_t flags = 0);
  std::uint64_t aio_zero(std::uint64_t count, std::uint64_t offset, CompletionHandler on_done = {},
                         std::uint32_t flags = 0);
  std::uint64_t aio_block_status(std::uint64_t count, std::uint64_t offset,
                                 ExtentObserver observer, CompletionHandler on_done = {},
                                 std::uint32_t flags = 0);
  // Sends NBD_CMD_DISC once nothing is in flight; is_closed() follows.
  void aio_disconnect();
  // true: done and now retired; false: still in flight. A command that
  // failed throws (and is retired too).
  bool command_completed(std::uint64_t cookie);
  // A completed command not yet retired, if any.
  std::optional<std::uint64_t> peek_completed() const;
  std::size_t in_flight() const;

  // ---- driving the connection ----
  // One round of the poll loop: true if something happened before the timeout.
  bool poll(int timeout_ms = -1);
  // For the caller's own event loop: the descriptor, the direction bits to
  // wait for, and the calls to make when it is ready.
  int fd() const;
  unsigned wanted_direction() const;
  void notify_read();
  void notify_write();

  Stats stats() const;

 private:
  std::unique_ptr<handle::Handle> handle_;
  // Where connect_uri connected, for get_uri.
  std::unique_ptr<uri::EndpointRecord> uri_endpoint_;
};

}  // namespace nbdref
