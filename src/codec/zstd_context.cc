// ZSTD_customMem and the *_advanced constructors are in zstd's experimental section; the
// shared library exports them.
#define ZSTD_STATIC_LINKING_ONLY
#include "codec/zstd_context.h"

#include "util/large_buffer.h"

namespace reducto {
namespace {

void* Allocate(void* /*opaque*/, size_t size) { return LargeAllocate(size); }
void Free(void* /*opaque*/, void* block) { LargeFree(block); }

constexpr ZSTD_customMem kLargeMemory = {Allocate, Free, nullptr};

}  // namespace

ZstdCCtxPtr MakeZstdCCtx() { return ZstdCCtxPtr(ZSTD_createCCtx_advanced(kLargeMemory)); }

ZstdDCtxPtr MakeZstdDCtx() { return ZstdDCtxPtr(ZSTD_createDCtx_advanced(kLargeMemory)); }

}  // namespace reducto
