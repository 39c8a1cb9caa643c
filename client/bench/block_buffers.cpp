// Page-aligned request buffers, filled with non-zero bytes.
#include "block_buffers.hpp"

#include <cstring>
#include <new>

namespace nbdref::bench {
namespace {

constexpr std::size_t kPage = 4096;

}  // namespace

BlockBuffers::BlockBuffers(std::size_t count, std::uint64_t block_size) : block_size_(block_size) {
  const std::size_t bytes = (count * block_size + kPage - 1) / kPage * kPage;
  memory_.reset(static_cast<std::byte*>(std::aligned_alloc(kPage, bytes)));
  if (!memory_) throw std::bad_alloc();
  // Non-zero, so that written data is never mistaken for a hole (nbdcopy
  // and servers treat zero blocks specially).
  std::memset(memory_.get(), 0xa5, bytes);
}

}  // namespace nbdref::bench
