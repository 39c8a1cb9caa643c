// Reads transmission replies (proto.md "Simple reply message", "Structured
// reply chunk message", "Structured reply types"): matches each to its
// command by cookie, checks every length, offset and type against the
// request before using it, places read data in the caller's buffer, and
// completes commands.
#pragma once

#include <span>
#include <vector>

#include "engine/connection_core.hpp"
#include "wire/chunk.hpp"
#include "wire/reply.hpp"

namespace nbdref::engine {

class ReplyReader {
 public:
  explicit ReplyReader(ConnectionCore& core) : core_(core) {}

  // Parses as much buffered input as it can; returns whether it made progress.
  bool step();
  // How many contiguous bytes the current state needs.
  std::size_t bytes_wanted() const;
  // While read data is being copied and nothing is buffered: the caller's
  // buffer region the next bytes belong in, so they can be received there
  // directly. Empty otherwise.
  std::span<std::uint8_t> direct_target() const;
  void direct_received(std::size_t n);
  // At most how many bytes to receive into the input buffer now. Normally
  // all there is room for; but when every command in flight is a large
  // read and the buffer is empty, only the next reply's header (with an
  // OFFSET_DATA chunk's offset), so that the data after it is received
  // straight into the caller's buffer instead of being copied there: one
  // more small receive instead of copying up to 64 KiB per reply.
  std::size_t buffered_read_limit() const;
  // The server closed its side.
  void on_eof();
  // Part of a reply has been read.
  bool mid_reply() const { return state_ != State::AwaitMagic; }

 private:
  enum class State {
    AwaitMagic,
    AwaitHeader,
    AwaitDataOffset,    // the 8-byte offset of an OFFSET_DATA chunk
    AwaitData,          // data bytes on their way into the caller's buffer
    AwaitChunkPayload,  // a whole (bounded) chunk payload
  };

  void on_magic();
  // False, after killing the connection, when the server answered `c`
  // before all of its request went out.
  bool fully_sent(const Command& c);
  void on_simple_reply(const wire::SimpleReply& r);
  void on_chunk_header(const wire::ChunkHeader& h);
  void on_data_offset();
  void on_data_complete();
  void on_chunk_payload(wire::Bytes payload);
  void on_hole(wire::Bytes payload);
  void on_block_status(wire::Bytes payload);
  void on_error_chunk(wire::Bytes payload);

  // Checks [offset, offset+length) lies in the request and overlaps no
  // earlier content (S-SR-021, S-SR-022); kills the connection if not.
  bool claim_content(std::uint64_t offset, std::uint64_t length, const char* chunk);
  // The chunk is handled: complete the command on NBD_REPLY_FLAG_DONE.
  void end_chunk();
  void finish_command();
  // C-TX-006: a server shutting down gets a soft disconnect.
  void note_server_error(std::uint32_t nbd_error);

  ConnectionCore& core_;
  State state_ = State::AwaitMagic;
  wire::ReplyKind kind_ = wire::ReplyKind::Simple;
  wire::ChunkHeader chunk_;
  bool simple_data_ = false;  // AwaitData belongs to a simple reply
  Command* command_ = nullptr;
  std::uint8_t* data_start_ = nullptr;
  std::uint8_t* data_dest_ = nullptr;
  std::uint64_t data_remaining_ = 0;
  std::uint64_t data_offset_ = 0;               // export offset of the chunk's first byte
  std::vector<wire::BlockDescriptor> extents_;  // scratch, reused
};

}  // namespace nbdref::engine
