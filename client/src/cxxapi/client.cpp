#include "nbdref/client.hpp"

#include <cerrno>

#include "handle/handle.hpp"
#include "transport/connector.hpp"

namespace nbdref {
namespace {

void check(const Result<void>& r) {
  if (!r) throw ClientError(r.error().errnum, r.error().message);
}

template <class T>
T value(Result<T> r) {
  if (!r) throw ClientError(r.error().errnum, r.error().message);
  return std::move(*r);
}

class ChunkAdapter final : public engine::CommandListener {
 public:
  explicit ChunkAdapter(const ChunkObserver& observer) : observer_(observer) {}
  void on_read_chunk(std::span<const std::uint8_t> data, std::uint64_t offset,
                     engine::ReadChunk kind, int& error) override {
    const int e = observer_(std::as_bytes(data), offset, static_cast<ReadChunkKind>(kind));
    if (e != 0) error = e;
  }
  void on_complete(const engine::CommandOutcome&) override {}

 private:
  const ChunkObserver& observer_;
};

class ExtentAdapter final : public engine::CommandListener {
 public:
  explicit ExtentAdapter(const ExtentObserver& observer) : observer_(observer) {}
  void on_extents(const engine::MetaContext& context, std::uint64_t offset,
                  std::span<const wire::BlockDescriptor> extents, int& error) override {
    extents_.clear();
    for (const auto& d : extents) {
      extents_.push_back({offset, d.length, d.status});
      offset += d.length;
    }
    const int e = observer_(context.name, extents_);
    if (e != 0) error = e;
  }
  void on_complete(const engine::CommandOutcome&) override {}

 private:
  const ExtentObserver& observer_;
  std::vector<Extent> extents_;
};

}  // namespace

ClientError::ClientError(int errnum, const std::string& message)
    : std::runtime_error(message), errnum_(errnum) {}

Client::Client() : handle_(std::make_unique<handle::Handle>()) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

std::string Client::name() const {
  return handle_->name();
}
void Client::set_name(std::string_view name) {
  handle_->set_name(std::string(name));
}
void Client::set_debug(bool on) {
  handle_->set_debug(on);
}
void Client::set_debug_observer(DebugObserver observer) {
  if (!observer) {
    handle_->set_debug_callback({});
    return;
  }
  handle_->set_debug_callback(
      [observer = std::move(observer)](const char* context, const std::string& message) {
        observer(context, message);
      });
}

void Client::set_export_name(std::string_view name) {
  check(handle_->set_export_name(std::string(name)));
}
std::string Client::export_name() const {
  return handle_->export_name();
}
void Client::set_full_info(bool on) {
  check(handle_->set_full_info(on));
}
void Client::set_request_block_size(bool on) {
  check(handle_->set_request_block_size(on));
}
void Client::set_request_structured_replies(bool on) {
  check(handle_->set_request_structured_replies(on));
}
void Client::set_request_extended_headers(bool on) {
  check(handle_->set_request_extended_headers(on));
}
void Client::set_handshake_flags(std::uint32_t flags) {
  check(handle_->set_handshake_flags(flags));
}
void Client::set_strict_mode(std::uint32_t flags) {
  check(handle_->set_strict_mode(flags));
}
void Client::set_pread_initialize(bool on) {
  handle_->set_pread_initialize(on);
}
void Client::add_meta_context(std::string_view name) {
  check(handle_->add_meta_context(std::string(name)));
}

void Client::connect_unix(const std::string& path) {
  check(handle_->connect(transport::connect_unix(path)));
}
void Client::connect_tcp(const std::string& host, const std::string& port) {
  check(handle_->connect(transport::connect_tcp(host, port)));
}
void Client::connect_socket(int fd) {
  check(handle_->connect(transport::connect_socket(fd)));
}
void Client::connect_command(std::vector<std::string> argv) {
  check(handle_->connect(transport::connect_command(std::move(argv))));
}

std::string Client::state() const {
  return handle::state_name(handle_->state());
}
std::uint64_t Client::size() const {
  return value(handle_->export_size());
}
bool Client::is_read_only() const {
  return value(handle_->has_flag(wire::NBD_FLAG_READ_ONLY));
}
bool Client::is_rotational() const {
  return value(handle_->has_flag(wire::NBD_FLAG_ROTATIONAL));
}
bool Client::can_flush() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_FLUSH));
}
bool Client::can_fua() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_FUA));
}
bool Client::can_trim() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_TRIM));
}
bool Client::can_zero() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_WRITE_ZEROES));
}
bool Client::can_fast_zero() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_FAST_ZERO));
}
bool Client::can_df() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_DF));
}
bool Client::can_multi_conn() const {
  return value(handle_->has_flag(wire::NBD_FLAG_CAN_MULTI_CONN));
}
bool Client::can_cache() const {
  return value(handle_->has_flag(wire::NBD_FLAG_SEND_CACHE));
}
bool Client::can_meta_context(std::string_view context) const {
  return value(handle_->can_meta_context(std::string(context)));
}
std::string Client::protocol() const {
  return value(handle_->protocol());
}
std::uint32_t Client::block_size(BlockSize which) const {
  return value(handle_->block_size(static_cast<handle::BlockSizeKind>(which)));
}
std::string Client::canonical_export_name() const {
  return value(handle_->canonical_export_name());
}
std::string Client::export_description() const {
  return value(handle_->export_description());
}
bool Client::structured_replies_negotiated() const {
  return value(handle_->structured_replies_negotiated());
}
bool Client::extended_headers_negotiated() const {
  return value(handle_->extended_headers_negotiated());
}

void Client::pread(std::span<std::byte> buf, std::uint64_t offset, std::uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_READ, offset, buf.size(), flags);
  r.read_buffer = reinterpret_cast<std::uint8_t*>(buf.data());
  check(handle_->run(r, nullptr));
}

void Client::pread(std::span<std::byte> buf, std::uint64_t offset, const ChunkObserver& observer,
                   std::uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_READ, offset, buf.size(), flags);
  r.read_buffer = reinterpret_cast<std::uint8_t*>(buf.data());
  ChunkAdapter adapter(observer);
  check(handle_->run(r, &adapter));
}

void Client::pwrite(std::span<const std::byte> buf, std::uint64_t offset, std::uint32_t flags) {
  auto r = engine::make_request(wire::NBD_CMD_WRITE, offset, buf.size(), flags);
  r.write_data = reinterpret_cast<const std::uint8_t*>(buf.data());
  check(handle_->run(r, nullptr));
}

void Client::flush(std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_FLUSH, 0, 0, flags), nullptr));
}
void Client::trim(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_TRIM, offset, count, flags), nullptr));
}
void Client::cache(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_CACHE, offset, count, flags), nullptr));
}
void Client::zero(std::uint64_t count, std::uint64_t offset, std::uint32_t flags) {
  check(handle_->run(engine::make_request(wire::NBD_CMD_WRITE_ZEROES, offset, count, flags),
                     nullptr));
}

void Client::block_status(std::uint64_t count, std::uint64_t offset, const ExtentObserver& observer,
                          std::uint32_t flags) {
  ExtentAdapter adapter(observer);
  check(handle_->run(engine::make_request(wire::NBD_CMD_BLOCK_STATUS, offset, count, flags),
                     &adapter));
}

void Client::shutdown(bool abandon_pending) {
  check(handle_->shutdown(abandon_pending));
}

}  // namespace nbdref
