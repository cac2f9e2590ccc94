// Owning pointers for zstd's compression and decompression contexts.
#ifndef REDUCTO_CODEC_ZSTD_CONTEXT_H_
#define REDUCTO_CODEC_ZSTD_CONTEXT_H_

#include <zstd.h>

#include <memory>

namespace reducto {

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
using ZstdCCtxPtr = std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter>;

struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};
using ZstdDCtxPtr = std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter>;

}  // namespace reducto

#endif  // REDUCTO_CODEC_ZSTD_CONTEXT_H_
