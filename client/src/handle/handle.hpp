// A client handle: the settings, the engine and the transport of one
// connection, behind one lock. Synchronous calls are built on the
// asynchronous core -- submit, then drive the poll loop until that command
// completes -- so every call on a handle is safe from several threads.
//
// The C API (capi/) and the C++ API (include/nbdref) are thin layers over
// this class; it speaks Result<> and never formats for a particular caller.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "engine/cookie_table.hpp"
#include "handle/async_command.hpp"
#include "handle/handle_settings.hpp"
#include "handle/handle_state.hpp"
#include "transport/connector.hpp"
#include "transport/stream.hpp"

namespace nbdref::handle {

// Receives debug messages: the API function running ("context") and the text.
using DebugCallback = std::function<void(const char* context, const std::string& message)>;

// libnbd's LIBNBD_SIZE_* selectors for block_size().
enum class BlockSizeKind { Minimum = 0, Preferred = 1, Maximum = 2 };

// libnbd's LIBNBD_AIO_DIRECTION_* bits.
inline constexpr unsigned DIRECTION_READ = 1;
inline constexpr unsigned DIRECTION_WRITE = 2;

class Handle {
 public:
  // Whether this build speaks TLS (GnuTLS, the NBDREF_TLS build option).
  static bool supports_tls();

  Handle();
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // ---- identity and debugging ----
  std::string name() const;
  void set_name(std::string name);
  std::uintptr_t exchange_private_data(std::uintptr_t data);
  std::uintptr_t private_data() const;
  void set_debug(bool enabled);
  bool debug() const;
  void set_debug_callback(DebugCallback callback);  // empty: print to stderr

  // ---- settings (see HandleSettings for when each may change) ----
  // When a setting may still change.
  enum class SettableUntil { Connect, ExportChosen, Always };
  // Checks the state, applies `change` (which may refuse the value) to the
  // settings, and hands the result to a connection still negotiating.
  Result<void> change_settings(const char* setting, SettableUntil until,
                               const std::function<Result<void>(HandleSettings&)>& change);
  HandleSettings settings() const;

  Result<void> set_export_name(std::string name);
  std::string export_name() const;
  Result<void> set_full_info(bool on);
  bool full_info() const;
  Result<void> set_request_block_size(bool on);
  bool request_block_size() const;
  Result<void> set_request_structured_replies(bool on);
  bool request_structured_replies() const;
  Result<void> set_request_extended_headers(bool on);
  bool request_extended_headers() const;
  Result<void> set_handshake_flags(std::uint32_t flags);
  std::uint32_t handshake_flags() const;
  Result<void> set_strict_mode(std::uint32_t flags);
  std::uint32_t strict_mode() const;
  void set_pread_initialize(bool on);
  bool pread_initialize() const;
  Result<void> set_opt_mode(bool on);
  bool opt_mode() const;
  Result<void> add_meta_context(std::string name);
  std::size_t meta_context_count() const;
  Result<std::string> meta_context(std::size_t i) const;
  Result<void> clear_meta_contexts();

  // ---- connecting ----
  // Connects and runs the handshake; returns once the handle is ready (or
  // negotiating, in option mode), or with the reason it is dead.
  Result<void> connect(std::unique_ptr<transport::Connector> connector);
  // Starts connecting and returns; poll() or the notify calls carry on.
  Result<void> start_connect(std::unique_ptr<transport::Connector> connector);
  Result<void> kill_subprocess(int signum);

  // ---- state and what the handshake learned ----
  HandleState state() const;
  Result<std::uint64_t> export_size() const;
  Result<bool> has_flag(wire::TransmissionFlag flag) const;
  Result<std::string> protocol() const;
  Result<std::uint32_t> block_size(BlockSizeKind kind) const;
  Result<std::string> canonical_export_name() const;
  Result<std::string> export_description() const;
  Result<bool> structured_replies_negotiated() const;
  Result<bool> extended_headers_negotiated() const;
  Result<bool> can_meta_context(const std::string& name) const;
  // The TLS handshake succeeded (after NBD_OPT_STARTTLS): everything since
  // went over TLS.
  Result<bool> tls_negotiated() const;
  // The TLS username: the one set, else $LOGNAME, else the name of the
  // effective user; ENOENT when there is none.
  Result<std::string> tls_username() const;

  // ---- options (option mode) ----
  // Runs the option and waits for it; `observer` (may be null) sees the
  // exports and contexts the server lists.
  Result<void> run_option(engine::OptionKind kind, engine::OptionListener* observer);
  // NBD_OPT_STARTTLS and the TLS handshake: true when TLS is now up, false
  // when the server declined (the session goes on in plaintext); an error
  // when the handshake failed (the connection is then dead), when TLS is
  // already up (EINVAL), or in a build without TLS (ENOTSUP).
  Result<bool> opt_starttls();
  // Starts the option; `listener` hears how it went during poll() and is
  // destroyed afterwards.
  Result<void> start_option(engine::OptionKind kind,
                            std::unique_ptr<engine::OptionListener> listener);

  // ---- commands ----
  // Issues the command and waits for it. `observer` (may be null) sees the
  // read chunks and extents as they arrive.
  Result<void> run(engine::CommandRequest request, engine::CommandListener* observer);
  // Issues the command and returns its cookie; `command` hears its progress
  // during poll(). The handle keeps `command` until the command is retired
  // (by command_completed(), or by on_finished() returning true), and
  // releases it at once when the submission fails.
  Result<std::uint64_t> submit(engine::CommandRequest request, AsyncCommandPtr command);
  // true: completed successfully, now retired; false: still in flight;
  // an error: it failed (now retired), or the cookie is unknown.
  Result<bool> command_completed(std::uint64_t cookie);
  // The cookie of a completed command not yet retired, 0 if commands are in
  // flight but none is waiting, an error if nothing is in flight at all.
  Result<std::int64_t> peek_completed() const;
  // Commands sent or queued and not yet answered.
  std::size_t in_flight() const;
  Result<void> disconnect();
  // Sends NBD_CMD_DISC (or NBD_OPT_ABORT while negotiating) and waits for
  // the connection to end.
  Result<void> shutdown(bool abandon_pending);
  // One round of the poll loop: 1 when something happened, 0 on timeout.
  Result<int> poll(int timeout_ms);

  // ---- driving the connection from the caller's own loop ----
  Result<int> fd() const;
  unsigned direction() const;  // DIRECTION_* bits; 0 when nothing is to be done
  Result<void> notify_read();
  Result<void> notify_write();

  engine::Stats stats() const;

 private:
  // Recursive, so a callback may ask questions of its own handle; what
  // would change the handle from inside a callback is refused instead
  // (refuse_from_callback).
  using Lock = std::unique_lock<std::recursive_mutex>;
  friend class AsyncCommand;

  Result<void> refuse_from_callback() const;
  // What an option needs before it starts (credentials for STARTTLS).
  Result<void> prepare_option(engine::OptionKind kind);
  void command_finished(AsyncCommand& command, const engine::CommandOutcome& outcome);
  void release_retired();

  HandleState state_locked() const;
  Result<void> need_state(const char* what, std::initializer_list<HandleState> allowed) const;
  // The handshake has happened (negotiating, in transmission or closed since).
  Result<void> need_session() const;
  Result<void> need_export_info() const;
  const engine::Session& session() const { return connection_->session(); }
  engine::ConnectionConfig make_config() const;
  template <class T>
  T read_setting(T HandleSettings::*member) const;
  void emit_debug(const std::string& message) const;
  // Gives the engine a debug sink while debugging is on, none otherwise.
  void route_engine_debug();

  // The poll loop's pieces.
  Result<int> poll_locked(int timeout_ms);
  Result<int> poll_connector(int timeout_ms);
  // One step of the connector: connected, failed, or still in progress.
  void step_connector();
  void start_transmission();
  // TLS: the engine asked for it (after reading), the handshake step, and
  // whether one is under way.
  Result<std::string> tls_username_locked() const;
  // Loads the TLS credentials the settings name, once per connection.
  Result<void> load_tls_credentials();
  void maybe_start_tls();
  void continue_tls_handshake();
  bool tls_handshaking() const;
  bool tls_established() const;
  // Reads and processes what the server sent, then starts TLS if that was
  // the server's agreement to it.
  void read_input();
  void read_engine_input();
  // The connection ended before the server said anything under TLS.
  void fail_after_tls(const std::string& what);
  void write_output();
  void end_if_finished();

  // An asynchronous command from submission to retirement.
  struct TrackedCommand {
    AsyncCommandPtr command;
    // 0 while in flight; then its place among completions (completed_ when
    // it completed), so peek_completed() can take the first.
    std::uint64_t completion = 0;
    int errnum = 0;
    std::string message;
    bool done() const { return completion != 0; }
  };

  mutable std::recursive_mutex mutex_;
  HandleSettings settings_;
  std::string name_;
  std::uintptr_t private_data_ = 0;
  bool debug_ = false;
  DebugCallback debug_callback_;

  std::unique_ptr<transport::Connector> connector_;
  std::unique_ptr<transport::Stream> stream_;
  // The credentials and the session being set up (empty without TLS).
  struct TlsState;
  std::unique_ptr<TlsState> tls_;
  // The TLS handshake is done and nothing has come through it yet.
  bool unanswered_after_tls_ = false;
  std::string peer_;       // what was connected to, for messages
  std::string peer_host_;  // the host name given to connect_tcp, if any
  std::unique_ptr<transport::Subprocess> subprocess_;
  std::unique_ptr<engine::Connection> connection_;
  std::optional<Error> connect_error_;  // the transport never connected

  engine::CookieTable<TrackedCommand> tracked_;  // asynchronous commands by cookie
  std::uint64_t completed_ = 0;                  // asynchronous commands completed so far
  bool previous_submit_alone_ = false;    // the last command submitted found nothing in flight
  std::vector<AsyncCommandPtr> retired_;  // released once callbacks return
  std::unique_ptr<engine::OptionListener> async_option_;  // the running aio_opt_* call
  bool closing_ = false;  // the destructor runs: no more callbacks, only releases
};

// The API function on whose behalf the current thread runs, for debug
// messages; the C API sets it for the length of each call.
class ApiContext {
 public:
  explicit ApiContext(const char* function);
  ~ApiContext();
  static const char* current();

 private:
  const char* previous_;
};

}  // namespace nbdref::handle
