// The data buffers of the requests in flight on one connection: one
// page-aligned allocation cut into blocks, every page touched before the
// measured part of a run so that page faults are not counted against the
// library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

namespace nbdref::bench {

class BlockBuffers {
 public:
  BlockBuffers(std::size_t count, std::uint64_t block_size);

  std::span<std::byte> block(std::size_t i) const {
    return {memory_.get() + i * block_size_, block_size_};
  }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::size_t block_size_;
  std::unique_ptr<std::byte, Free> memory_;
};

}  // namespace nbdref::bench
