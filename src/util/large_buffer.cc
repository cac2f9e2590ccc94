#include "util/large_buffer.h"

#include <sys/mman.h>

#include <new>

namespace reducto {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSmallPage = 4096;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this == &other) return *this;
  Release();
  data_ = other.data_;
  size_ = other.size_;
  capacity_ = other.capacity_;
  mapping_ = other.mapping_;
  mapping_size_ = other.mapping_size_;
  other.data_ = nullptr;
  other.mapping_ = nullptr;
  other.size_ = other.capacity_ = other.mapping_size_ = 0;
  return *this;
}

std::span<uint8_t> LargeBuffer::Resize(size_t size) {
  if (size > capacity_) {
    Release();
    // Huge pages only for buffers of at least one: a small buffer would hold a whole
    // huge page for a few bytes.
    const bool huge = size >= kHugePage;
    const size_t capacity = RoundUp(size, huge ? kHugePage : kSmallPage);
    // One huge page more, so that the usable part can start on a huge-page boundary.
    const size_t mapping_size = huge ? capacity + kHugePage : capacity;
    void* p = ::mmap(nullptr, mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    mapping_ = p;
    mapping_size_ = mapping_size;
    data_ = static_cast<uint8_t*>(p);
    if (huge) {
      data_ = reinterpret_cast<uint8_t*>(RoundUp(reinterpret_cast<uintptr_t>(p), kHugePage));
      ::madvise(data_, capacity, MADV_HUGEPAGE);  // Advice: without THP, 4 KiB pages.
    }
    capacity_ = capacity;
  }
  size_ = size;
  return span();
}

void LargeBuffer::Release() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
  mapping_ = nullptr;
  data_ = nullptr;
  size_ = capacity_ = mapping_size_ = 0;
}

void ReserveLarge(std::vector<uint8_t>* bytes, size_t size) {
  if (bytes->capacity() >= size) return;
  bytes->reserve(size);
  if (size < 2 * kHugePage) return;
  const uintptr_t begin = RoundUp(reinterpret_cast<uintptr_t>(bytes->data()), kHugePage);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes->data()) + size) / kHugePage * kHugePage;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace reducto
