// The zstd stream of a version 3 container (docs/format.md, "Block stream"): the block
// payloads, in order, are one zstd frame; each payload is what one flush of the stream
// produced, and decodes, continuing the frame, to exactly its block's instructions. So
// zstd finds repeats in everything the container sent before (a 16 MiB window, with
// long-distance matching), not only inside the block.
//
// Thread safety: an object is used by one thread at a time.
#ifndef REDUCTO_CODEC_BLOCK_STREAM_H_
#define REDUCTO_CODEC_BLOCK_STREAM_H_

#include <zstd.h>

#include <cstdint>
#include <span>
#include <vector>

#include "codec/container.h"
#include "codec/zstd_context.h"
#include "reducto/status.h"
#include "util/large_buffer.h"

namespace reducto {

// Sets `cctx`'s parameters to those of a container's block stream at zstd `level`.
Status ConfigureBlockStream(ZSTD_CCtx* cctx, int level);

// Compresses the blocks of one container, in order.
class BlockStreamCompressor {
 public:
  explicit BlockStreamCompressor(int level);

  // Compresses `instructions` into *record, continuing the stream; `last` ends the
  // frame. REQUIRES: not called after a call with `last`.
  Status Compress(std::span<const uint8_t> instructions, uint32_t output_size,
                  const Digest& output_digest, bool last, BlockRecord* record);

 private:
  const int level_;
  ZstdCCtxPtr cctx_;
  bool configured_ = false;
  // zstd's output before it is copied to the record: ZSTD_compressBound of a block's
  // instructions, a buffer that a vector would zero again for every block.
  LargeBuffer out_;
};

// Decompresses the payloads of one container, in order, checking that each one decodes
// to exactly its block's instruction size and that the frame ends with the last block.
class BlockStreamDecompressor {
 public:
  BlockStreamDecompressor();

  // Corrupt unless `payload` continues the frame (the first one starts it) and decodes
  // to exactly instructions.size() bytes.
  Status Decompress(std::span<const uint8_t> payload, std::span<uint8_t> instructions);
  // After the last block: Corrupt unless the frame ended (or there were no blocks).
  Status Finish() const;

 private:
  ZstdDCtxPtr dctx_;
  bool started_ = false;
  bool ended_ = false;
};

}  // namespace reducto

#endif  // REDUCTO_CODEC_BLOCK_STREAM_H_
