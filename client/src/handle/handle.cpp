#include "handle/handle.hpp"

#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "transport/socket_stream.hpp"
#include "wire/limits.hpp"
#ifdef NBDREF_HAVE_TLS
#include "tls/credentials.hpp"
#include "tls/tls_stream.hpp"
#endif

namespace nbdref::handle {
namespace {

using engine::Phase;
using wire::MAX_STRING_LENGTH;

thread_local const char* t_api_context = nullptr;
// The handle whose engine is calling back into the caller on this thread.
thread_local const void* t_dispatching = nullptr;

// Marks the stretch during which the engine may call listeners.
class Dispatching {
 public:
  explicit Dispatching(const void* handle) : previous_(t_dispatching) { t_dispatching = handle; }
  ~Dispatching() { t_dispatching = previous_; }
  Dispatching(const Dispatching&) = delete;
  Dispatching& operator=(const Dispatching&) = delete;

 private:
  const void* previous_;
};

std::string next_handle_name() {
  static std::atomic<unsigned> counter{0};
  return "nbd" + std::to_string(++counter);
}

bool debug_from_environment() {
  const char* v = std::getenv("LIBNBD_DEBUG");
  return v && std::strcmp(v, "1") == 0;
}

// Strings that will go on the wire: no NUL, at most 4096 bytes (C-GEN-001, C-GEN-003).
Result<void> check_wire_string(const std::string& s, const char* what) {
  if (s.size() > MAX_STRING_LENGTH) {
    return failure(ENAMETOOLONG, std::string(what) + " is longer than the protocol's 4096 bytes");
  }
  if (s.find('\0') != std::string::npos) {
    return failure(EINVAL, std::string(what) + " contains a NUL byte");
  }
  return {};
}

// "sending to the server: Broken pipe", or the TLS layer's own reason.
std::string io_failure(const std::string& what, const transport::IoResult& r) {
  if (!r.detail.empty()) return what + ": " + r.detail;
  return with_strerror(what, r.errnum);
}

// Reads are attempted this many times per poll round before yielding, so
// one busy connection cannot starve the caller.
constexpr int MAX_READS_PER_ROUND = 16;
constexpr std::size_t MAX_SEGMENTS_PER_WRITE = 64;

}  // namespace

ApiContext::ApiContext(const char* function) : previous_(t_api_context) {
  t_api_context = function;
}
ApiContext::~ApiContext() {
  t_api_context = previous_;
}
const char* ApiContext::current() {
  return t_api_context ? t_api_context : "nbdref";
}

#ifdef NBDREF_HAVE_TLS
struct Handle::TlsState {
  std::shared_ptr<const tls::Credentials> credentials;
  tls::TlsStream* session = nullptr;  // stream_, once the TLS session replaced the socket
  bool handshaking = false;
  bool wants_write = false;  // the handshake waits for POLLOUT, else for POLLIN
};
bool Handle::supports_tls() {
  return true;
}
#else
struct Handle::TlsState {};
bool Handle::supports_tls() {
  return false;
}
#endif

Handle::Handle() : name_(next_handle_name()), debug_(debug_from_environment()) {}

Handle::~Handle() {
  Lock lock(mutex_);
  Dispatching dispatching(this);
  // Closing abandons whatever is in flight (libnbd's nbd_close): callbacks
  // are released, not called.
  closing_ = true;
  if (connection_) connection_->fail(Error{ESHUTDOWN, "the handle was closed"});
  tracked_.for_each([](std::uint64_t, TrackedCommand& t) { t.command.reset(); });
  retired_.clear();
  async_option_.reset();
  stream_.reset();
  subprocess_.reset();  // kills and reaps a server started by connect_command
}

Result<void> Handle::refuse_from_callback() const {
  if (t_dispatching == this) {
    return failure(EDEADLK, "this call cannot be made from a callback of the same handle");
  }
  return {};
}

// ---- identity and debugging ----

std::string Handle::name() const {
  Lock lock(mutex_);
  return name_;
}
void Handle::set_name(std::string name) {
  Lock lock(mutex_);
  name_ = std::move(name);
}
std::uintptr_t Handle::exchange_private_data(std::uintptr_t data) {
  Lock lock(mutex_);
  return std::exchange(private_data_, data);
}
std::uintptr_t Handle::private_data() const {
  Lock lock(mutex_);
  return private_data_;
}
void Handle::set_debug(bool enabled) {
  Lock lock(mutex_);
  debug_ = enabled;
  if (connection_) route_engine_debug();
}
bool Handle::debug() const {
  Lock lock(mutex_);
  return debug_;
}
void Handle::set_debug_callback(DebugCallback callback) {
  Lock lock(mutex_);
  debug_callback_ = std::move(callback);
}

void Handle::route_engine_debug() {
  // Without a sink the engine builds no message at all: that is most of its
  // string work per command.
  if (debug_) {
    connection_->set_debug([this](const std::string& m) { emit_debug(m); });
  } else {
    connection_->set_debug(nullptr);
  }
}

void Handle::emit_debug(const std::string& message) const {
  if (!debug_) return;
  if (debug_callback_) {
    debug_callback_(ApiContext::current(), message);
  } else {
    std::fprintf(stderr, "nbdref: debug: %s: %s: %s\n", name_.c_str(), ApiContext::current(),
                 message.c_str());
  }
}

// ---- state ----

HandleState Handle::state() const {
  Lock lock(mutex_);
  return state_locked();
}

HandleState Handle::state_locked() const {
  if (connector_) return HandleState::Connecting;
  if (connect_error_) return HandleState::Dead;
  if (!connection_) return HandleState::Created;
  switch (connection_->phase()) {
    case Phase::Handshaking:
      return HandleState::Connecting;
    case Phase::Negotiating:
      return HandleState::Negotiating;
    case Phase::Ready:
      return connection_->mid_exchange() ? HandleState::Processing : HandleState::Ready;
    case Phase::Dead:
      return HandleState::Dead;
    case Phase::Closed:
      return HandleState::Closed;
  }
  return HandleState::Dead;
}

Result<void> Handle::need_state(const char* what,
                                std::initializer_list<HandleState> allowed) const {
  const HandleState s = state_locked();
  for (auto a : allowed) {
    if (s == a) return {};
  }
  std::string message = std::string("invalid state: the handle is ") + state_name(s) + ", " + what;
  if (s == HandleState::Dead) {
    const auto& e = connect_error_ ? connect_error_ : connection_->error();
    if (e) message += " (" + e->message + ")";
  }
  return failure(s == HandleState::Created ? ENOTCONN : EINVAL, message);
}

// ---- settings ----

engine::ConnectionConfig Handle::make_config() const {
  engine::ConnectionConfig c;
  c.export_name = settings_.export_name;
  c.request_extended_headers = settings_.request_extended_headers;
  c.request_structured_replies = settings_.request_structured_replies;
  c.request_block_size = settings_.request_block_size;
  c.full_info = settings_.full_info;
  c.meta_contexts = settings_.meta_contexts;
  c.handshake_flags = settings_.handshake_flags;
  c.opt_mode = settings_.opt_mode;
  c.tls = static_cast<engine::TlsMode>(settings_.tls);
  c.strict = settings_.strict;
  c.pread_initialize = settings_.pread_initialize;
  return c;
}

HandleSettings Handle::settings() const {
  Lock lock(mutex_);
  return settings_;
}

Result<void> Handle::change_settings(const char* setting, SettableUntil until,
                                     const std::function<Result<void>(HandleSettings&)>& change) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (until != SettableUntil::Always) {
    const bool negotiating = until == SettableUntil::ExportChosen;
    const std::string why = std::string(setting) +
                            (negotiating ? " can only change before connecting or while negotiating"
                                         : " can only change before connecting");
    auto ok = negotiating
                  ? need_state(why.c_str(), {HandleState::Created, HandleState::Negotiating})
                  : need_state(why.c_str(), {HandleState::Created});
    if (!ok) return ok;
  }
  if (auto ok = change(settings_); !ok) return ok;
  // Negotiation settings matter until the export is chosen; strictness and
  // read initialization apply to every later command.
  if (connection_) connection_->config() = make_config();
  return {};
}

template <class T>
T Handle::read_setting(T HandleSettings::*member) const {
  Lock lock(mutex_);
  return settings_.*member;
}

namespace {

template <class T>
auto assign(T HandleSettings::*member, T value) {
  return [member, value = std::move(value)](HandleSettings& s) mutable -> Result<void> {
    s.*member = std::move(value);
    return {};
  };
}

}  // namespace

Result<void> Handle::set_export_name(std::string name) {
  if (auto ok = check_wire_string(name, "the export name"); !ok) return ok;
  return change_settings("the export name", SettableUntil::ExportChosen,
                         assign(&HandleSettings::export_name, std::move(name)));
}
std::string Handle::export_name() const {
  return read_setting(&HandleSettings::export_name);
}

Result<void> Handle::set_full_info(bool on) {
  return change_settings("full info", SettableUntil::ExportChosen,
                         assign(&HandleSettings::full_info, on));
}
bool Handle::full_info() const {
  return read_setting(&HandleSettings::full_info);
}

Result<void> Handle::set_request_block_size(bool on) {
  return change_settings("requesting block sizes", SettableUntil::ExportChosen,
                         assign(&HandleSettings::request_block_size, on));
}
bool Handle::request_block_size() const {
  return read_setting(&HandleSettings::request_block_size);
}

Result<void> Handle::set_request_structured_replies(bool on) {
  return change_settings("requesting structured replies", SettableUntil::Connect,
                         assign(&HandleSettings::request_structured_replies, on));
}
bool Handle::request_structured_replies() const {
  return read_setting(&HandleSettings::request_structured_replies);
}

Result<void> Handle::set_request_extended_headers(bool on) {
  return change_settings("requesting extended headers", SettableUntil::Connect,
                         assign(&HandleSettings::request_extended_headers, on));
}
bool Handle::request_extended_headers() const {
  return read_setting(&HandleSettings::request_extended_headers);
}

Result<void> Handle::set_handshake_flags(std::uint32_t flags) {
  if (flags & ~std::uint32_t{wire::NBD_FLAG_FIXED_NEWSTYLE | wire::NBD_FLAG_NO_ZEROES}) {
    return failure(EINVAL, "handshake flags " + std::to_string(flags) + " include unknown bits");
  }
  return change_settings("the handshake flags", SettableUntil::Connect,
                         assign(&HandleSettings::handshake_flags, flags));
}
std::uint32_t Handle::handshake_flags() const {
  Lock lock(mutex_);
  // Once the server has spoken, the flags both sides agreed on (the client
  // flag bits have the same values as libnbd's handshake flags).
  if (connection_ && session().greeted) return session().client_flags;
  return settings_.handshake_flags;
}

Result<void> Handle::set_strict_mode(std::uint32_t flags) {
  if (flags & ~std::uint32_t{engine::STRICT_ALL}) {
    return failure(EINVAL, "strict mode " + std::to_string(flags) + " includes unknown bits");
  }
  return change_settings("strict mode", SettableUntil::Always,
                         assign(&HandleSettings::strict, flags));
}
std::uint32_t Handle::strict_mode() const {
  return read_setting(&HandleSettings::strict);
}

void Handle::set_pread_initialize(bool on) {
  (void)change_settings("read initialization", SettableUntil::Always,
                        assign(&HandleSettings::pread_initialize, on));
}
bool Handle::pread_initialize() const {
  return read_setting(&HandleSettings::pread_initialize);
}

Result<void> Handle::set_opt_mode(bool on) {
  return change_settings("option mode", SettableUntil::Connect,
                         assign(&HandleSettings::opt_mode, on));
}
bool Handle::opt_mode() const {
  return read_setting(&HandleSettings::opt_mode);
}

Result<void> Handle::add_meta_context(std::string name) {
  if (auto ok = check_wire_string(name, "the meta context name"); !ok) return ok;
  return change_settings("the meta contexts", SettableUntil::ExportChosen,
                         [&name](HandleSettings& s) -> Result<void> {
                           s.meta_contexts.push_back(std::move(name));
                           return {};
                         });
}
std::size_t Handle::meta_context_count() const {
  Lock lock(mutex_);
  return settings_.meta_contexts.size();
}
Result<std::string> Handle::meta_context(std::size_t i) const {
  Lock lock(mutex_);
  if (i >= settings_.meta_contexts.size()) {
    return failure(EINVAL, "meta context index " + std::to_string(i) + " is out of range (" +
                               std::to_string(settings_.meta_contexts.size()) + " requested)");
  }
  return settings_.meta_contexts[i];
}
Result<void> Handle::clear_meta_contexts() {
  return change_settings("the meta contexts", SettableUntil::ExportChosen,
                         assign(&HandleSettings::meta_contexts, std::vector<std::string>{}));
}

// ---- what the handshake learned ----

Result<void> Handle::need_session() const {
  return need_state("the handle must be connected", {HandleState::Negotiating, HandleState::Ready,
                                                     HandleState::Processing, HandleState::Closed});
}

Result<void> Handle::need_export_info() const {
  if (auto ok = need_state("the handle must be connected to an export",
                           {HandleState::Negotiating, HandleState::Ready, HandleState::Processing,
                            HandleState::Closed});
      !ok) {
    return ok;
  }
  if (!session().export_info.known) {
    return failure(EINVAL, "no export information yet: the server has not described an export");
  }
  return {};
}

Result<std::uint64_t> Handle::export_size() const {
  Lock lock(mutex_);
  if (auto ok = need_export_info(); !ok) return tl::unexpected(ok.error());
  return session().export_info.size;
}

Result<bool> Handle::has_flag(wire::TransmissionFlag flag) const {
  Lock lock(mutex_);
  if (auto ok = need_export_info(); !ok) return tl::unexpected(ok.error());
  return session().export_info.has(flag);
}

Result<std::string> Handle::protocol() const {
  Lock lock(mutex_);
  if (auto ok = need_session(); !ok) return tl::unexpected(ok.error());
  return std::string(engine::protocol_name(session().protocol));
}

Result<std::uint32_t> Handle::block_size(BlockSizeKind kind) const {
  Lock lock(mutex_);
  if (auto ok = need_export_info(); !ok) return tl::unexpected(ok.error());
  const auto& sizes = session().export_info.block_sizes;
  if (!sizes) return 0u;  // the server advertised none
  switch (kind) {
    case BlockSizeKind::Minimum:
      return sizes->minimum;
    case BlockSizeKind::Preferred:
      return sizes->preferred;
    case BlockSizeKind::Maximum:
      return sizes->maximum;
  }
  return 0u;
}

Result<std::string> Handle::canonical_export_name() const {
  Lock lock(mutex_);
  if (auto ok = need_export_info(); !ok) return tl::unexpected(ok.error());
  const auto& name = session().export_info.canonical_name;
  if (!name) {
    // Without NBD_INFO_NAME the name we asked for is the canonical one
    // (proto.md "NBD_INFO_NAME" lets a server omit it in that case), but
    // only if we asked for full information at all.
    if (!settings_.full_info) {
      return failure(ENOTSUP, "full info was not requested (see set_full_info)");
    }
    return settings_.export_name;
  }
  return *name;
}

Result<std::string> Handle::export_description() const {
  Lock lock(mutex_);
  if (auto ok = need_export_info(); !ok) return tl::unexpected(ok.error());
  const auto& d = session().export_info.description;
  if (!d) return failure(ENOTSUP, "the server did not send an export description");
  return *d;
}

Result<bool> Handle::structured_replies_negotiated() const {
  Lock lock(mutex_);
  if (auto ok = need_session(); !ok) return tl::unexpected(ok.error());
  // Extended headers imply everything structured replies allow.
  return session().structured_replies || session().extended_headers;
}

Result<bool> Handle::extended_headers_negotiated() const {
  Lock lock(mutex_);
  if (auto ok = need_session(); !ok) return tl::unexpected(ok.error());
  return session().extended_headers;
}

Result<bool> Handle::can_meta_context(const std::string& name) const {
  Lock lock(mutex_);
  // Also while negotiating: after SET_META_CONTEXT the selection is known.
  if (auto ok = need_session(); !ok) return tl::unexpected(ok.error());
  for (const auto& c : session().meta_contexts) {
    if (c.name == name) return true;
  }
  return false;
}

Result<bool> Handle::tls_negotiated() const {
  Lock lock(mutex_);
  if (auto ok = need_session(); !ok) return tl::unexpected(ok.error());
  return session().tls_negotiated;
}

Result<std::string> Handle::tls_username() const {
  Lock lock(mutex_);
  return tls_username_locked();
}

Result<std::string> Handle::tls_username_locked() const {
  if (settings_.tls_username) return *settings_.tls_username;
  if (const char* logname = std::getenv("LOGNAME"); logname && *logname) {
    return std::string(logname);
  }
  if (const passwd* pw = ::getpwuid(::geteuid())) return std::string(pw->pw_name);
  return failure(ENOENT,
                 "no TLS username is set (see set_tls_username) and the local user has "
                 "no name");
}

Result<void> Handle::load_tls_credentials() {
#ifdef NBDREF_HAVE_TLS
  if (tls_) return {};
  tls::TlsOptions options;
  options.certificates_dir = settings_.tls_certificates;
  options.verify_peer = settings_.tls_verify_peer;
  options.psk_file = settings_.tls_psk_file;
  options.host_name = settings_.tls_hostname ? *settings_.tls_hostname : peer_host_;
  if (options.psk_file) {
    auto user = tls_username_locked();
    if (!user) return tl::unexpected(user.error());
    options.username = std::move(*user);
  }
  auto credentials =
      tls::Credentials::load(options, [this](const std::string& m) { emit_debug(m); });
  if (!credentials) {
    return failure(credentials.error().errnum, "cannot set up TLS: " + credentials.error().message);
  }
  tls_ = std::make_unique<TlsState>();
  tls_->credentials = std::move(*credentials);
  return {};
#else
  return failure(ENOTSUP, "this build has no TLS support (see nbd_supports_tls)");
#endif
}

// ---- connecting ----

Result<void> Handle::start_connect(std::unique_ptr<transport::Connector> connector) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok = need_state("connecting needs a newly created handle", {HandleState::Created});
      !ok) {
    return ok;
  }
  emit_debug("connecting to " + connector->describe());
  connector_ = std::move(connector);
  step_connector();
  if (connect_error_) return tl::unexpected(*connect_error_);
  return {};
}

Result<void> Handle::connect(std::unique_ptr<transport::Connector> connector) {
  if (auto ok = start_connect(std::move(connector)); !ok) return ok;
  Lock lock(mutex_);
  while (state_locked() == HandleState::Connecting) {
    if (auto r = poll_locked(-1); !r) return tl::unexpected(r.error());
  }
  const HandleState s = state_locked();
  if (s == HandleState::Dead) {
    return tl::unexpected(connect_error_ ? *connect_error_ : *connection_->error());
  }
  if (s == HandleState::Closed) {
    return failure(ECONNRESET, "the connection closed during the handshake");
  }
  return {};
}

void Handle::step_connector() {
  const auto progress = connector_->step();
  using State = transport::ConnectProgress::State;
  switch (progress.state) {
    case State::Connected:
      start_transmission();
      return;
    case State::Failed:
      connect_error_ = progress.error;
      emit_debug("connection failed: " + progress.error.message);
      connector_.reset();
      return;
    case State::InProgress:
      return;
  }
}

Result<int> Handle::poll_connector(int timeout_ms) {
  pollfd p{connector_->fd(), POLLOUT, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    const int err = errno;
    return failure(err, with_strerror("poll", err));
  }
  if (n == 0) return 0;
  step_connector();
  return 1;
}

void Handle::start_transmission() {
  stream_ = transport::make_socket_stream(connector_->take_socket());
  subprocess_ = connector_->take_subprocess();
  peer_ = connector_->describe();
  peer_host_ = connector_->host_name();
  emit_debug("connected to " + peer_);
  connector_.reset();
  connection_ = std::make_unique<engine::Connection>(make_config());
  route_engine_debug();
  if (settings_.tls != 0) {
    // Loaded before the greeting is read, so that a missing key or
    // certificate ends the attempt before the server sees a single option.
    if (auto ok = load_tls_credentials(); !ok) {
      connection_->fail(ok.error());
      end_if_finished();
    }
  }
}

bool Handle::tls_established() const {
#ifdef NBDREF_HAVE_TLS
  return tls_ && tls_->session && tls_->session->established();
#else
  return false;
#endif
}

bool Handle::tls_handshaking() const {
#ifdef NBDREF_HAVE_TLS
  return tls_ && tls_->handshaking;
#else
  return false;
#endif
}

void Handle::maybe_start_tls() {
#ifdef NBDREF_HAVE_TLS
  if (!stream_ || !connection_->tls_requested() || (tls_ && tls_->session)) return;
  if (auto ok = load_tls_credentials(); !ok) {
    // C-HS-008: the server expects a TLS handshake now; there is no way back
    // to plaintext, so the connection just ends.
    connection_->fail(ok.error());
    return;
  }
  auto session =
      tls::TlsStream::start(stream_, tls_->credentials, connection_->take_unread_input());
  if (!session) {
    connection_->fail(
        Error{session.error().errnum, "cannot start TLS: " + session.error().message});
    return;
  }
  tls_->session = session->get();
  stream_ = std::move(*session);
  tls_->handshaking = true;
  emit_debug("starting the TLS handshake with " + peer_);
  continue_tls_handshake();
#endif
}

void Handle::continue_tls_handshake() {
#ifdef NBDREF_HAVE_TLS
  if (!tls_handshaking() || !stream_) return;
  const auto progress = tls_->session->handshake();
  switch (progress.state) {
    case tls::HandshakeProgress::State::Done:
      tls_->handshaking = false;
      unanswered_after_tls_ = true;
      emit_debug("TLS handshake done: " + tls_->session->describe_session());
      connection_->tls_established();
      write_output();
      // Whatever the server sent along with the end of its handshake is
      // already out of the socket.
      if (stream_ && stream_->has_buffered_input()) read_engine_input();
      return;
    case tls::HandshakeProgress::State::WouldBlock:
      tls_->wants_write = progress.wants_write;
      return;
    case tls::HandshakeProgress::State::Failed:
      tls_->handshaking = false;
      // C-TLS-012 (proto.md "Client-side requirements"), C-HS-008: too late
      // for plaintext; the connection ends without another word.
      connection_->fail(Error{progress.error.errnum, "the TLS handshake with " + peer_ +
                                                         " failed: " + progress.error.message +
                                                         " [C-TLS-012]"});
      return;
  }
#endif
}

Result<void> Handle::kill_subprocess(int signum) {
  Lock lock(mutex_);
  if (!subprocess_) return failure(ESRCH, "no subprocess was started (see connect_command)");
  return subprocess_->kill(signum == 0 ? SIGTERM : signum);
}

// ---- the poll loop ----

Result<int> Handle::poll(int timeout_ms) {
  if (auto ok = refuse_from_callback(); !ok) return tl::unexpected(ok.error());
  Lock lock(mutex_);
  return poll_locked(timeout_ms);
}

Result<int> Handle::poll_locked(int timeout_ms) {
  if (connector_) return poll_connector(timeout_ms);
  if (!stream_) {
    return failure(EINVAL, std::string("invalid state: the handle is ") +
                               state_name(state_locked()) + ", with no connection to poll");
  }
  Dispatching dispatching(this);
  // Sending first often makes waiting for POLLOUT unnecessary.
  write_output();
  end_if_finished();
  if (!stream_) return 1;

  pollfd p{stream_->fd(), 0, 0};
  const bool handshaking = tls_handshaking();
  const bool stream_must_write = stream_->needs_write_readiness();
  if (handshaking) {
    p.events = direction() & DIRECTION_WRITE ? POLLOUT : POLLIN;
  } else {
    p.events = POLLIN;
    if (connection_->has_output() || stream_must_write) p.events |= POLLOUT;
  }
  const int n = ::poll(&p, 1, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return 0;
    const int err = errno;
    return failure(err, with_strerror("poll", err));
  }
  if (n == 0) return 0;
  if (handshaking) {
    continue_tls_handshake();
  } else {
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) read_input();
    if (p.revents & POLLOUT) {
      write_output();
      // A TLS read that stalled on sending goes on once the socket drains.
      if (stream_must_write) read_input();
    }
  }
  end_if_finished();
  release_retired();
  return 1;
}

Result<int> Handle::fd() const {
  Lock lock(mutex_);
  if (connector_ && connector_->fd() >= 0) return connector_->fd();
  if (stream_) return stream_->fd();
  return failure(EINVAL, std::string("invalid state: the handle is ") + state_name(state_locked()) +
                             ", with no file descriptor");
}

unsigned Handle::direction() const {
  Lock lock(mutex_);
  if (connector_) return DIRECTION_WRITE;  // a connecting socket turns writable
  if (!stream_) return 0;
#ifdef NBDREF_HAVE_TLS
  // The TLS handshake waits for one direction only, the one GnuTLS names.
  if (tls_handshaking()) return tls_->wants_write ? DIRECTION_WRITE : DIRECTION_READ;
#endif
  const bool write = connection_->has_output() || stream_->needs_write_readiness();
  return DIRECTION_READ | (write ? DIRECTION_WRITE : 0);
}

Result<void> Handle::notify_read() {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  Dispatching dispatching(this);
  if (connector_) {
    step_connector();
    return {};
  }
  if (!stream_) return failure(EINVAL, "there is no connection to read from");
  if (tls_handshaking()) {
    continue_tls_handshake();
  } else {
    read_input();
  }
  // What the replies made the engine say can often leave at once.
  write_output();
  end_if_finished();
  release_retired();
  return {};
}

Result<void> Handle::notify_write() {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  Dispatching dispatching(this);
  if (connector_) {
    step_connector();
    return {};
  }
  if (!stream_) return failure(EINVAL, "there is no connection to write to");
  if (tls_handshaking()) {
    continue_tls_handshake();
  } else {
    const bool stream_must_write = stream_->needs_write_readiness();
    write_output();
    if (stream_must_write) read_input();
  }
  end_if_finished();
  release_retired();
  return {};
}

engine::Stats Handle::stats() const {
  Lock lock(mutex_);
  return connection_ ? connection_->stats() : engine::Stats{};
}

void Handle::read_input() {
  read_engine_input();
  // The server's NBD_REP_ACK to NBD_OPT_STARTTLS: the handshake starts now.
  maybe_start_tls();
}

void Handle::read_engine_input() {
  // Bytes the stream holds already (a TLS record read in part) are read
  // now, whatever the round's limit: no poll would ever announce them.
  for (int i = 0; stream_ && (i < MAX_READS_PER_ROUND || stream_->has_buffered_input()); ++i) {
    const Phase phase = connection_->phase();
    if (phase == Phase::Dead || phase == Phase::Closed) return;
    // What follows the acknowledgement belongs to TLS, not to the engine.
    if (connection_->tls_requested() || tls_handshaking()) return;
    const auto space = connection_->input_space();
    const auto r = stream_->read(space);
    switch (r.status) {
      case transport::IoStatus::Done:
        unanswered_after_tls_ = false;
        connection_->input_received(r.bytes);
        // A short read means the socket is drained: the next poll says when
        // more arrives, without a read that only returns EAGAIN.
        if (r.bytes < space.size() && !stream_->has_buffered_input()) return;
        break;
      case transport::IoStatus::Eof:
        if (unanswered_after_tls_) {
          fail_after_tls("end of stream");
          return;
        }
        connection_->input_eof();
        return;
      case transport::IoStatus::WouldBlock:
        return;
      case transport::IoStatus::Failed:
        if (unanswered_after_tls_ && (r.errnum == ECONNRESET || r.errnum == EPIPE)) {
          fail_after_tls(with_strerror("receiving from the server", r.errnum));
          return;
        }
        connection_->fail(Error{r.errnum, io_failure("receiving from the server", r)});
        return;
    }
  }
}

void Handle::write_output() {
  iovec segments[MAX_SEGMENTS_PER_WRITE];
  while (stream_ && connection_->has_output() && !tls_handshaking()) {
    const std::size_t count = connection_->output_segments(segments);
    std::size_t offered = 0;
    for (std::size_t i = 0; i < count; ++i) offered += segments[i].iov_len;
    const auto r = stream_->write({segments, count});
    if (r.status == transport::IoStatus::Done) {
      connection_->output_sent(r.bytes);
      if (r.bytes < offered) return;  // the socket buffer is full
      continue;
    }
    if (r.status == transport::IoStatus::Failed) {
      if (unanswered_after_tls_ && (r.errnum == ECONNRESET || r.errnum == EPIPE)) {
        fail_after_tls(with_strerror("sending to the server", r.errnum));
        return;
      }
      connection_->fail(Error{r.errnum, io_failure("sending to the server", r)});
    }
    return;
  }
}

void Handle::fail_after_tls(const std::string& what) {
  // Under TLS 1.3 a server judges the client's certificate only after the
  // client's side of the handshake is done, and some just hang up: however
  // the loss shows itself (end of stream, reset, broken pipe), it means the
  // same and is reported the same way.
  connection_->fail(Error{ECONNRESET,
                          "the server ended the connection right after the TLS handshake, before "
                          "answering anything (" +
                              what + "): it may not accept the client's credentials [C-TLS-012]"});
}

void Handle::end_if_finished() {
  if (!stream_) return;
  const Phase phase = connection_->phase();
  if (phase != Phase::Dead && phase != Phase::Closed) return;
  // Last words first (a final NBD_OPT_ABORT), best effort, then hang up
  // (C-HS-004, C-TX-023: nothing more is sent).
  write_output();
  // C-TX-004, C-HS-005: an established TLS session is closed with
  // close_notify also when the connection dies; a failed one just ends.
  if (phase == Phase::Closed || tls_established()) stream_->shutdown();
  stream_.reset();
  emit_debug(std::string("connection ") + engine::phase_name(phase));
}

// ---- options ----

namespace {

// Waits for one option for a synchronous call, passing the lists on.
class OptionWaiter final : public engine::OptionListener {
 public:
  explicit OptionWaiter(engine::OptionListener* observer) : observer_(observer) {}
  void on_export(std::string_view name, std::string_view description) override {
    if (observer_) observer_->on_export(name, description);
  }
  void on_context(std::string_view name) override {
    if (observer_) observer_->on_context(name);
  }
  void on_option_complete(const Result<void>& result) override {
    if (observer_) observer_->on_option_complete(result);
    result_ = result;
  }
  const std::optional<Result<void>>& result() const { return result_; }

 private:
  engine::OptionListener* observer_;
  std::optional<Result<void>> result_;
};

// Owns an asynchronous option's listener for the handle; the listener is
// destroyed (its C callbacks freed) right after it has heard the result.
class OwnedOption final : public engine::OptionListener {
 public:
  OwnedOption(std::unique_ptr<engine::OptionListener> listener, const bool& closing)
      : listener_(std::move(listener)), closing_(closing) {}
  void on_export(std::string_view name, std::string_view description) override {
    if (listener_) listener_->on_export(name, description);
  }
  void on_context(std::string_view name) override {
    if (listener_) listener_->on_context(name);
  }
  void on_option_complete(const Result<void>& result) override {
    auto listener = std::move(listener_);
    if (listener && !closing_) listener->on_option_complete(result);
  }

 private:
  std::unique_ptr<engine::OptionListener> listener_;
  const bool& closing_;
};

}  // namespace

Result<void> Handle::prepare_option(engine::OptionKind kind) {
  if (kind != engine::OptionKind::StartTls) return {};
  if (session().tls_negotiated) {
    // C-TLS-006 (proto.md "Client-side requirements"); the engine refuses
    // too, this says so before anything is queued.
    return failure(EINVAL,
                   "TLS is already active on this connection, and NBD_OPT_STARTTLS may not be "
                   "sent again [C-TLS-006]");
  }
  // The credentials are checked before the server is asked: once it has
  // agreed there is no going back to plaintext.
  return load_tls_credentials();
}

Result<bool> Handle::opt_starttls() {
  if (auto ok = refuse_from_callback(); !ok) return tl::unexpected(ok.error());
  Lock lock(mutex_);
  if (auto ok = need_state("options need option mode and the negotiating phase",
                           {HandleState::Negotiating});
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = prepare_option(engine::OptionKind::StartTls); !ok) {
    return tl::unexpected(ok.error());
  }
  auto r = run_option(engine::OptionKind::StartTls, nullptr);
  if (r) return true;
  // Still negotiating: the server declined, and the session goes on in
  // plaintext (C-TLS-009). Anything else ended the connection.
  if (state_locked() == HandleState::Negotiating) return false;
  return tl::unexpected(r.error());
}

Result<void> Handle::run_option(engine::OptionKind kind, engine::OptionListener* observer) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok = need_state("options need option mode and the negotiating phase",
                           {HandleState::Negotiating});
      !ok) {
    return ok;
  }
  if (auto ok = prepare_option(kind); !ok) return ok;
  OptionWaiter waiter(observer);
  if (auto ok = connection_->start_option({kind, {}, &waiter}); !ok) return ok;
  while (!waiter.result()) {
    if (auto r = poll_locked(-1); !r) connection_->fail(r.error());
  }
  return *waiter.result();
}

Result<void> Handle::start_option(engine::OptionKind kind,
                                  std::unique_ptr<engine::OptionListener> listener) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok = need_state("options need option mode and the negotiating phase",
                           {HandleState::Negotiating});
      !ok) {
    return ok;
  }
  if (auto ok = prepare_option(kind); !ok) return ok;
  async_option_ = std::make_unique<OwnedOption>(std::move(listener), closing_);
  return connection_->start_option({kind, {}, async_option_.get()});
}

// ---- commands ----

namespace {

// Waits for one command for a synchronous call, passing events on to the
// caller's observer.
class CommandWaiter final : public engine::CommandListener {
 public:
  explicit CommandWaiter(engine::CommandListener* observer) : observer_(observer) {}

  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    if (observer_) observer_->on_read_chunk(data, offset, kind, error);
  }
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override {
    if (observer_) observer_->on_extents(context, offset, extents, error);
  }
  void on_complete(const engine::CommandOutcome& outcome) override {
    if (observer_) observer_->on_complete(outcome);
    outcome_ = outcome;
  }

  const std::optional<engine::CommandOutcome>& outcome() const { return outcome_; }

 private:
  engine::CommandListener* observer_;
  std::optional<engine::CommandOutcome> outcome_;
};

}  // namespace

void AsyncCommand::on_complete(const engine::CommandOutcome& outcome) {
  // A synchronous call uses the same callbacks without an owner.
  if (owner_) owner_->command_finished(*this, outcome);
}

void Handle::command_finished(AsyncCommand& command, const engine::CommandOutcome& outcome) {
  TrackedCommand* t = tracked_.find(outcome.cookie);
  if (!t) return;
  t->completion = ++completed_;
  t->errnum = outcome.errnum;
  t->message = outcome.message;
  if (closing_) return;
  int errnum = outcome.errnum;
  const bool retire = command.on_finished(errnum);
  if (errnum != outcome.errnum) {
    t->errnum = errnum;
    t->message = "the completion callback failed the command";
  }
  if (retire) {
    // Released once the engine has finished calling it.
    retired_.push_back(std::move(t->command));
    tracked_.remove(outcome.cookie);
  }
}

void Handle::release_retired() {
  retired_.clear();
}

Result<std::uint64_t> Handle::submit(engine::CommandRequest request, AsyncCommandPtr command) {
  if (auto ok = refuse_from_callback(); !ok) return tl::unexpected(ok.error());
  Lock lock(mutex_);
  if (auto ok =
          need_state("the handle must be connected", {HandleState::Ready, HandleState::Processing});
      !ok) {
    return tl::unexpected(ok.error());
  }
  if (command) {
    command->owner_ = this;
    request.listener = command.get();
  }
  auto cookie = connection_->submit(request);
  if (!cookie) return cookie;  // `command` is released here, and its callbacks with it
  if (command) {
    TrackedCommand& t = tracked_.add(*cookie);
    t.command = std::move(command);
    t.completion = 0;
    t.errnum = 0;
    t.message.clear();
  }
  // A caller issuing one command at a time (each into an idle connection)
  // has it sent at once: nothing would go with it, and waiting for the next
  // poll would cost a round of its own. Otherwise it waits and leaves with
  // the others in one write -- also the first of a new burst, which the
  // rest of the burst follows at once.
  const bool alone = connection_->in_flight() == 1;
  const bool one_at_a_time = alone && previous_submit_alone_;
  previous_submit_alone_ = alone;
  if (one_at_a_time) {
    Dispatching dispatching(this);
    write_output();
    end_if_finished();
    release_retired();
  }
  return cookie;
}

Result<bool> Handle::command_completed(std::uint64_t cookie) {
  if (auto ok = refuse_from_callback(); !ok) return tl::unexpected(ok.error());
  Lock lock(mutex_);
  TrackedCommand* t = tracked_.find(cookie);
  if (!t) {
    return failure(EINVAL, "cookie " + std::to_string(cookie) +
                               " names no command in flight or awaiting retirement");
  }
  if (!t->done()) return false;
  const int errnum = t->errnum;
  std::string message = std::move(t->message);
  t->command.reset();
  tracked_.remove(cookie);
  if (errnum != 0) return failure(errnum, message);
  return true;
}

Result<std::int64_t> Handle::peek_completed() const {
  Lock lock(mutex_);
  // The first of the completed commands awaiting retirement (libnbd's
  // nbd_aio_peek_command_completed), in the order they completed.
  std::uint64_t first = 0, first_completion = UINT64_MAX;
  tracked_.for_each([&](std::uint64_t cookie, const TrackedCommand& t) {
    if (t.done() && t.completion < first_completion) {
      first = cookie;
      first_completion = t.completion;
    }
  });
  if (first != 0) return static_cast<std::int64_t>(first);
  if (connection_ && connection_->in_flight() > 0) return 0;
  return failure(EINVAL, "no commands are in flight");
}

Result<void> Handle::run(engine::CommandRequest request, engine::CommandListener* observer) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok =
          need_state("the handle must be connected", {HandleState::Ready, HandleState::Processing});
      !ok) {
    return ok;
  }
  CommandWaiter waiter(observer);
  request.listener = &waiter;
  auto cookie = connection_->submit(request);
  if (!cookie) return tl::unexpected(cookie.error());
  while (!waiter.outcome()) {
    // A poll failure kills the connection, which completes the command.
    if (auto r = poll_locked(-1); !r) connection_->fail(r.error());
    if (!stream_ && !waiter.outcome()) {
      return failure(EIO, "the connection ended without completing the command");
    }
  }
  const auto& outcome = *waiter.outcome();
  if (outcome.errnum != 0) return failure(outcome.errnum, outcome.message);
  return {};
}

std::size_t Handle::in_flight() const {
  Lock lock(mutex_);
  return connection_ ? connection_->in_flight() : 0;
}

Result<void> Handle::disconnect() {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok =
          need_state("the handle must be connected", {HandleState::Ready, HandleState::Processing});
      !ok) {
    return ok;
  }
  return connection_->disconnect(false);
}

Result<void> Handle::shutdown(bool abandon_pending) {
  if (auto ok = refuse_from_callback(); !ok) return ok;
  Lock lock(mutex_);
  if (auto ok = need_state("shutting down needs a connection",
                           {HandleState::Negotiating, HandleState::Ready, HandleState::Processing});
      !ok) {
    return ok;
  }
  {
    Dispatching dispatching(this);
    if (state_locked() == HandleState::Negotiating) {
      // C-HS-010: leave negotiation politely.
      if (auto ok = connection_->start_option({engine::OptionKind::Abort, {}, nullptr}); !ok) {
        return ok;
      }
    } else if (auto ok = connection_->disconnect(abandon_pending); !ok) {
      return ok;
    }
  }
  while (stream_) {
    if (auto r = poll_locked(-1); !r) connection_->fail(r.error());
  }
  if (connection_->phase() == Phase::Dead) return tl::unexpected(*connection_->error());
  return {};
}

}  // namespace nbdref::handle
