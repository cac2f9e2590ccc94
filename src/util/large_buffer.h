// LargeBuffer: a byte buffer of megabytes that is filled again and again (a block's
// output, its instructions), in anonymous memory that the kernel may back with
// transparent huge pages (madvise MADV_HUGEPAGE, 2 MiB) from 256 KiB on (smaller
// buffers use 4 KiB pages: a huge page would be mostly unused). Touching fresh 4 KiB pages
// costs a page fault each, and page faults are expensive in virtual machines: with
// huge pages for every allocation (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), decompressing
// the vm-ext4 bench pair with two threads took 0.47 -> 0.33 s (2026-12-07); the
// decoder's block buffers are most of that.
//
// Thread safety: none; one owner at a time (it moves).
#ifndef REDUCTO_UTIL_LARGE_BUFFER_H_
#define REDUCTO_UTIL_LARGE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace reducto {

class LargeBuffer {
 public:
  LargeBuffer() = default;
  LargeBuffer(LargeBuffer&& other) noexcept { *this = static_cast<LargeBuffer&&>(other); }
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;
  ~LargeBuffer() { Release(); }

  // Makes the buffer `size` bytes long and returns them. Within the capacity the bytes
  // stay as they were; growing it maps new memory, whose bytes are undefined (the
  // caller writes every byte before reading it). Throws std::bad_alloc when the memory
  // cannot be mapped, as a std::vector would.
  std::span<uint8_t> Resize(size_t size);

  std::span<uint8_t> span() const { return {data_, size_}; }
  size_t size() const { return size_; }

 private:
  void Release();

  uint8_t* data_ = nullptr;    // 2 MiB-aligned inside the mapping.
  size_t size_ = 0;
  size_t capacity_ = 0;        // Usable bytes from data_.
  void* mapping_ = nullptr;    // What munmap takes back.
  size_t mapping_size_ = 0;
};

// A table of 64-bit words that starts all zero without writing a byte: anonymous memory,
// which the kernel gives zeroed pages on first touch, so a large hash table that a short
// input barely fills costs only the pages it touches (a std::vector writes every byte:
// the local search's 8-16 MiB table of skipped positions was 20-40% of compressing a
// 1 KB file, 2026-12-07). Throws std::bad_alloc when the memory cannot be mapped.
//
// Thread safety: none; one owner.
class ZeroedWords {
 public:
  ZeroedWords() = default;
  explicit ZeroedWords(size_t count);
  ZeroedWords(const ZeroedWords&) = delete;
  ZeroedWords& operator=(const ZeroedWords&) = delete;
  ~ZeroedWords();

  std::span<uint64_t> span() const { return {data_, count_}; }

 private:
  uint64_t* data_ = nullptr;
  size_t count_ = 0;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
};

// Reserves room for `size` bytes in *bytes, advising huge pages for the 2 MiB-aligned
// part of new room of at least 2 MiB: for a vector that is filled again and again,
// such as a block's instructions, which would otherwise take a page fault per 4 KiB.
void ReserveLarge(std::vector<uint8_t>* bytes, size_t size);

// malloc and free for a library's allocations (zstd's windows and workspaces, through
// its custom allocator): blocks of at least 2 MiB are mapped on their own with huge
// pages advised, as LargeBuffer's; smaller ones come from malloc. Returns nullptr when
// the memory cannot be had. LargeFree takes nullptr or what LargeAllocate returned.
void* LargeAllocate(size_t size);
void LargeFree(void* block);

}  // namespace reducto

#endif  // REDUCTO_UTIL_LARGE_BUFFER_H_
