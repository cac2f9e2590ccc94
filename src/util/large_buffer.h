// LargeBuffer: a byte buffer of megabytes that is filled again and again (a block's
// output, a segment of the target), in anonymous memory that the kernel may back with
// transparent huge pages (madvise MADV_HUGEPAGE, 2 MiB). Touching fresh 4 KiB pages
// costs a page fault each, and page faults are expensive in virtual machines: with
// huge pages, compressing the vm-ext4 bench pair with two threads took 1.44 -> 1.19 s
// and decompressing it 0.47 -> 0.33 s (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which
// does the same for every allocation, 2026-12-07).
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

// Memory for a container that grows to megabytes and is reused (a segment's decisions):
// allocations of at least 2 MiB are mapped with MADV_HUGEPAGE, as LargeBuffer's;
// smaller ones come from operator new. Not for bytes copied in ranges: libstdc++ copies
// into a vector with another allocator than std::allocator element by element, not
// with memmove (a block's output through it cost the kernel pair 6% more instructions).
void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);

template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: converting, as allocators are.
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const { return true; }
};

template <typename T>
using LargeVector = std::vector<T, LargeAllocator<T>>;

}  // namespace reducto

#endif  // REDUCTO_UTIL_LARGE_BUFFER_H_
