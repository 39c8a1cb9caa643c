// Sparse in-memory storage behind one export. Every connection to the export
// shares one RamDisk, so what one connection writes the others read at once
// -- the consistency NBD_FLAG_CAN_MULTI_CONN promises (S-TX-021, proto.md
// "Transmission flags"). Pages are allocated by the first write that touches
// them and released by trim and zeroing; bytes without a page read as zero.
// One mutex guards everything: connections may be served from several threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace nbdref::mock {

// What a stretch of the disk holds, in the terms base:allocation reports.
enum class ExtentState : std::uint8_t {
  Hole,  // no page behind it: reads as zeroes
  Zero,  // allocated, every byte zero
  Data,  // allocated, holds data
};

struct DiskExtent {
  std::uint64_t length = 0;
  ExtentState state = ExtentState::Hole;

  bool operator==(const DiskExtent&) const = default;
};

class RamDisk {
 public:
  static constexpr std::uint32_t DEFAULT_PAGE_SIZE = 4096;

  // `page_size` is the allocation granularity and must be a power of two.
  explicit RamDisk(std::uint64_t size, std::uint32_t page_size = DEFAULT_PAGE_SIZE);
  RamDisk(const RamDisk&) = delete;
  RamDisk& operator=(const RamDisk&) = delete;

  std::uint64_t size() const { return size_; }
  std::uint32_t page_size() const { return page_size_; }

  // Every range below must lie inside the disk: callers check requests first.
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data);
  // Releases the pages the range covers completely; a partly covered page
  // keeps its bytes (a trim may discard less than asked, proto.md "NBD_CMD_TRIM").
  void trim(std::uint64_t offset, std::uint64_t length);
  // Makes the range read as zeroes. With `keep_allocated` every page the
  // range touches ends up allocated (NBD_CMD_FLAG_NO_HOLE, S-TX-054);
  // otherwise completely covered pages are released.
  void zero(std::uint64_t offset, std::uint64_t length, bool keep_allocated);
  // The range as consecutive extents, equal neighbours merged. When it
  // would take more than `max_extents`, only the first `max_extents` come
  // back, covering a prefix of the range.
  std::vector<DiskExtent> extents(std::uint64_t offset, std::uint64_t length,
                                  std::size_t max_extents) const;
  // How many pages hold memory now.
  std::size_t allocated_pages() const;

 private:
  using Page = std::unique_ptr<std::uint8_t[]>;

  std::uint8_t* page_for_write(std::uint64_t index);
  // Indexes of the pages [first, last) that lie completely inside the range.
  std::pair<std::uint64_t, std::uint64_t> whole_pages(std::uint64_t offset,
                                                      std::uint64_t length) const;

  const std::uint64_t size_;
  const std::uint32_t page_size_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Page> pages_;  // by page index
};

}  // namespace nbdref::mock
