#include "codec/block_stream.h"

#include <string>

#include "codec/format.h"
#include "util/endian.h"

namespace reducto {
namespace {

Status ZstdError(const char* what, size_t code) {
  return Status::Unavailable(std::string(what) + ZSTD_getErrorName(code));
}

Status DamagedStream(const std::string& what) {
  return Status::Corrupt("the block's zstd data " + what + ": the container is damaged");
}

}  // namespace

Status ConfigureBlockStream(ZSTD_CCtx* cctx, int level) {
  if (cctx == nullptr) return Status::Unavailable("cannot allocate a zstd compression context");
  size_t r = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(r)) {
    r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, format::kStreamWindowLog);
  }
  if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
  if (ZSTD_isError(r)) return ZstdError("zstd: ", r);
  return Status::Ok();
}

BlockStreamCompressor::BlockStreamCompressor(int level)
    : level_(level), cctx_(MakeZstdCCtx()) {}

Status BlockStreamCompressor::Compress(std::span<const uint8_t> instructions,
                                       uint32_t output_size, const Digest& output_digest,
                                       bool last, BlockRecord* record) {
  if (!configured_) RETURN_IF_ERROR(ConfigureBlockStream(cctx_.get(), level_));
  configured_ = true;
  std::vector<uint8_t>& payload = record->payload;
  payload.clear();
  ZSTD_inBuffer in{instructions.data(), instructions.size(), 0};
  std::span<uint8_t> buffer = out_.Resize(ZSTD_compressBound(instructions.size()));
  const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_flush;
  for (;;) {
    ZSTD_outBuffer out{buffer.data(), buffer.size(), 0};
    size_t left = ZSTD_compressStream2(cctx_.get(), &out, &in, mode);
    if (ZSTD_isError(left)) return ZstdError("zstd could not compress a block: ", left);
    payload.insert(payload.end(), buffer.data(), buffer.data() + out.pos);
    if (left == 0) break;
  }
  FinishBlockRecord(static_cast<uint32_t>(instructions.size()), output_size, output_digest,
                    record);
  return Status::Ok();
}

BlockStreamDecompressor::BlockStreamDecompressor() : dctx_(MakeZstdDCtx()) {
  if (dctx_ != nullptr &&
      ZSTD_isError(ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax,
                                          format::kStreamWindowLog))) {
    dctx_.reset();
  }
}

Status BlockStreamDecompressor::Decompress(std::span<const uint8_t> payload,
                                           std::span<uint8_t> instructions) {
  if (dctx_ == nullptr) return Status::Unavailable("cannot allocate a zstd decompression context");
  if (ended_) return DamagedStream("continues after the end of the container's zstd frame");
  if (!started_ && (payload.size() < 4 || LoadLe32(payload.data()) != ZSTD_MAGICNUMBER)) {
    return DamagedStream("of the first block does not start a zstd frame");
  }
  started_ = true;
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  ZSTD_outBuffer out{instructions.data(), instructions.size(), 0};
  for (;;) {
    const size_t in_before = in.pos, out_before = out.pos;
    size_t r = ZSTD_decompressStream(dctx_.get(), &out, &in);
    if (ZSTD_isError(r)) {
      return DamagedStream(std::string("does not decompress (") + ZSTD_getErrorName(r) + ")");
    }
    if (r == 0) ended_ = true;
    if (ended_ || (in.pos == in_before && out.pos == out_before)) break;
  }
  if (in.pos != in.size) {
    return DamagedStream(ended_ ? "has bytes after the end of the zstd frame"
                                : "decodes to more than the block's instruction size");
  }
  if (out.pos != out.size) {
    return DamagedStream("decodes to less than the block's instruction size");
  }
  if (ended_) return Status::Ok();
  // The payload is consumed and the instructions are complete: zstd must not hold
  // more of this block's bytes.
  uint8_t probe = 0;
  ZSTD_outBuffer extra{&probe, 1, 0};
  ZSTD_inBuffer none{nullptr, 0, 0};
  size_t r = ZSTD_decompressStream(dctx_.get(), &extra, &none);
  if (ZSTD_isError(r) || extra.pos != 0) {
    return DamagedStream("decodes to more than the block's instruction size");
  }
  if (r == 0) ended_ = true;
  return Status::Ok();
}

Status BlockStreamDecompressor::Finish() const {
  if (started_ && !ended_) {
    return Status::Corrupt(
        "the container's zstd frame does not end with its last block: the container is "
        "damaged");
  }
  return Status::Ok();
}

}  // namespace reducto
