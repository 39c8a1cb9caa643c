#include "server/ram_disk.hpp"

#include <algorithm>
#include <cstring>

namespace nbdref::mock {
namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

}  // namespace

RamDisk::RamDisk(std::uint64_t size, std::uint32_t page_size)
    : size_(size), page_size_(page_size) {}

void RamDisk::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t in_page = pos % page_size_;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(page_size_ - in_page, out.size() - done));
    auto it = pages_.find(pos / page_size_);
    if (it == pages_.end()) {
      std::memset(out.data() + done, 0, n);
    } else {
      std::memcpy(out.data() + done, it->second.get() + in_page, n);
    }
    done += n;
  }
}

std::uint8_t* RamDisk::page_for_write(std::uint64_t index) {
  auto& page = pages_[index];
  // make_unique<T[]> value-initialises: a new page reads as zeroes.
  if (!page) page = std::make_unique<std::uint8_t[]>(page_size_);
  return page.get();
}

void RamDisk::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < data.size()) {
    const std::uint64_t pos = offset + done;
    const std::uint64_t in_page = pos % page_size_;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(page_size_ - in_page, data.size() - done));
    std::memcpy(page_for_write(pos / page_size_) + in_page, data.data() + done, n);
    done += n;
  }
}

std::pair<std::uint64_t, std::uint64_t> RamDisk::whole_pages(std::uint64_t offset,
                                                             std::uint64_t length) const {
  const std::uint64_t end = offset + length;
  const std::uint64_t first = (offset + page_size_ - 1) / page_size_;
  // The last page of a disk whose size is not a page multiple counts as
  // covered when the range reaches the end of the disk.
  const std::uint64_t last = end == size_ ? (end + page_size_ - 1) / page_size_ : end / page_size_;
  return {first, std::max(first, last)};
}

void RamDisk::trim(std::uint64_t offset, std::uint64_t length) {
  std::lock_guard lock(mutex_);
  const auto [first, last] = whole_pages(offset, length);
  pages_.erase(pages_.lower_bound(first), pages_.lower_bound(last));
}

void RamDisk::zero(std::uint64_t offset, std::uint64_t length, bool keep_allocated) {
  std::lock_guard lock(mutex_);
  if (!keep_allocated) {
    const auto [first, last] = whole_pages(offset, length);
    pages_.erase(pages_.lower_bound(first), pages_.lower_bound(last));
  }
  const std::uint64_t end = offset + length;
  std::uint64_t pos = offset;
  while (pos < end) {
    const std::uint64_t index = pos / page_size_;
    const std::uint64_t in_page = pos % page_size_;
    const std::uint64_t n = std::min<std::uint64_t>(page_size_ - in_page, end - pos);
    if (keep_allocated) {
      std::memset(page_for_write(index) + in_page, 0, static_cast<std::size_t>(n));
      pos += n;
      continue;
    }
    // Only pages that survived the release above need clearing; jump over holes.
    auto it = pages_.lower_bound(index);
    if (it == pages_.end()) break;
    if (it->first != index) {
      pos = std::min(end, it->first * page_size_);
      continue;
    }
    std::memset(it->second.get() + in_page, 0, static_cast<std::size_t>(n));
    pos += n;
  }
}

std::vector<DiskExtent> RamDisk::extents(std::uint64_t offset, std::uint64_t length,
                                         std::size_t max_extents) const {
  std::lock_guard lock(mutex_);
  std::vector<DiskExtent> out;
  const std::uint64_t end = offset + length;
  std::uint64_t pos = offset;
  auto it = pages_.lower_bound(offset / page_size_);
  while (pos < end) {
    const std::uint64_t index = pos / page_size_;
    DiskExtent next;
    if (it != pages_.end() && it->first == index) {
      const std::uint64_t in_page = pos % page_size_;
      next.length = std::min<std::uint64_t>(page_size_ - in_page, end - pos);
      next.state = all_zero(it->second.get() + in_page, static_cast<std::size_t>(next.length))
                       ? ExtentState::Zero
                       : ExtentState::Data;
      ++it;
    } else {
      const std::uint64_t next_page = it == pages_.end() ? end : it->first * page_size_;
      next.length = std::min(end, next_page) - pos;
      next.state = ExtentState::Hole;
    }
    pos += next.length;
    if (!out.empty() && out.back().state == next.state) {
      out.back().length += next.length;
    } else {
      if (out.size() == max_extents) break;
      out.push_back(next);
    }
  }
  return out;
}

std::size_t RamDisk::allocated_pages() const {
  std::lock_guard lock(mutex_);
  return pages_.size();
}

}  // namespace nbdref::mock
