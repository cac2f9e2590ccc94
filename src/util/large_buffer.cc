#include "util/large_buffer.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace reducto {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSmallPage = 4096;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// An anonymous mapping whose `capacity` usable bytes start at `data`, at least `lead`
// bytes past the mapping's start; with `huge`, on a huge-page boundary and with huge
// pages advised (advice only: without THP the kernel uses 4 KiB pages). REQUIRES:
// lead <= kSmallPage (the mapping starts on a small page, so one huge page more holds
// both the lead and the rounding up to a huge-page boundary).
struct Mapping {
  void* base = nullptr;  // nullptr: the memory could not be had.
  size_t size = 0;
  uint8_t* data = nullptr;
  size_t capacity = 0;
};

Mapping MapAnonymous(size_t size, bool huge, size_t lead) {
  if (size > SIZE_MAX / 2) return {};  // Rounding up below must not overflow.
  const size_t capacity = RoundUp(size, huge ? kHugePage : kSmallPage);
  // One huge page more, so that the usable part can start on a huge-page boundary.
  const size_t mapping_size = capacity + (huge ? kHugePage : RoundUp(lead, kSmallPage));
  void* p = ::mmap(nullptr, mapping_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED) return {};
  const uintptr_t start = reinterpret_cast<uintptr_t>(p) + lead;
  auto* data = reinterpret_cast<uint8_t*>(huge ? RoundUp(start, kHugePage) : start);
  if (huge) ::madvise(data, capacity, MADV_HUGEPAGE);
  return {p, mapping_size, data, capacity};
}

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
    // Huge pages from an eighth of one: a block's payload or instructions are often a
    // few hundred KiB, and a fresh 4 KiB page costs a fault each (a recycled buffer that
    // must grow is mapped anew); a smaller buffer would hold a huge page for a few bytes.
    const Mapping mapping = MapAnonymous(size, /*huge=*/size >= kHugePage / 8, /*lead=*/0);
    if (mapping.base == nullptr) throw std::bad_alloc();
    mapping_ = mapping.base;
    mapping_size_ = mapping.size;
    data_ = mapping.data;
    capacity_ = mapping.capacity;
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

ZeroedWords::ZeroedWords(size_t count) {
  if (count == 0) return;
  if (count > SIZE_MAX / 2 / sizeof(uint64_t)) throw std::bad_alloc();
  // Small pages: the touched slots of a sparse table are scattered, and a huge page would
  // be zeroed whole for each.
  const Mapping mapping = MapAnonymous(count * sizeof(uint64_t), /*huge=*/false, /*lead=*/0);
  if (mapping.base == nullptr) throw std::bad_alloc();
  mapping_ = mapping.base;
  mapping_size_ = mapping.size;
  data_ = reinterpret_cast<uint64_t*>(mapping.data);
  count_ = count;
}

ZeroedWords::~ZeroedWords() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

void ReserveLarge(std::vector<uint8_t>* bytes, size_t size) {
  if (bytes->capacity() >= size) return;
  bytes->reserve(size);
  if (size < 2 * kHugePage) return;
  const uintptr_t begin = RoundUp(reinterpret_cast<uintptr_t>(bytes->data()), kHugePage);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes->data()) + size) / kHugePage * kHugePage;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

namespace {

// What LargeFree needs, in the bytes just before each block LargeAllocate returns.
struct AllocationHeader {
  void* base;           // What malloc returned, or the mapping.
  size_t mapping_size;  // 0: from malloc.
};
constexpr size_t kHeaderRoom = 64;  // Keeps malloc's 16-byte alignment after the header.
static_assert(sizeof(AllocationHeader) <= kHeaderRoom);
static_assert(kHeaderRoom <= kSmallPage);  // MapAnonymous's lead.

AllocationHeader* HeaderOf(void* block) {
  return reinterpret_cast<AllocationHeader*>(static_cast<uint8_t*>(block) - kHeaderRoom);
}

}  // namespace

void* LargeAllocate(size_t size) {
  if (size < kHugePage) {
    void* base = std::malloc(size + kHeaderRoom);
    if (base == nullptr) return nullptr;
    void* block = static_cast<uint8_t*>(base) + kHeaderRoom;
    *HeaderOf(block) = {base, 0};
    return block;
  }
  // The block starts on a huge-page boundary, its header in the small page before.
  const Mapping mapping = MapAnonymous(size, /*huge=*/true, /*lead=*/kHeaderRoom);
  if (mapping.base == nullptr) return nullptr;
  *HeaderOf(mapping.data) = {mapping.base, mapping.size};
  return mapping.data;
}

void LargeFree(void* block) {
  if (block == nullptr) return;
  const AllocationHeader header = *HeaderOf(block);
  if (header.mapping_size == 0) {
    std::free(header.base);
  } else {
    ::munmap(header.base, header.mapping_size);
  }
}

}  // namespace reducto
