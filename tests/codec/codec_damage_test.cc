// Damaged, truncated, extended and hand-crafted containers: the decoder must fail, and
// never return OK with output other than the original.
#include <gtest/gtest.h>
#include <zstd.h>

#include "codec/container.h"
#include "codec/format.h"
#include "codec/instructions.h"
#include "codec_test_util.h"
#include "fake_corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsBytes;
using testing::AsString;
using testing::DecodeFromString;
using testing::EncodeToString;
using testing::FakeCorpus;
using testing::RandomBytes;
using testing::SmallBlockOptions;

FakeCorpus MakeCorpus(std::string id = "0f8fad5b-d9cb-469f-a165-70867728950e") {
  return FakeCorpus(RandomBytes(20000, 99), ChunkerParams::ForAverage(256), std::move(id));
}

// A target mostly copied from the corpus, with some new bytes: a container of a few
// hundred bytes with copies, literals and three blocks.
std::vector<uint8_t> MixedTarget(const FakeCorpus& corpus) {
  std::vector<uint8_t> target(corpus.bytes().begin() + 3000, corpus.bytes().begin() + 9000);
  auto fresh = RandomBytes(300, 5);
  target.insert(target.begin() + 2000, fresh.begin(), fresh.end());
  target.insert(target.end(), corpus.bytes().begin(), corpus.bytes().begin() + 2000);
  return target;
}

std::string MustEncode(const CorpusReader* corpus, const std::vector<uint8_t>& input) {
  auto container = EncodeToString(corpus, input, SmallBlockOptions(4096));
  EXPECT_TRUE(container.ok()) << container.status().ToString();
  return container.ok() ? *container : std::string();
}

// Decodes `container` and expects failure; returns the status.
Status ExpectDecodeFails(const std::string& container, const CorpusReader* corpus) {
  std::string output;
  auto result = DecodeFromString(container, corpus, &output);
  EXPECT_FALSE(result.ok()) << "decoded " << output.size() << " bytes from a bad container";
  return result.status();
}

ContainerHeader HeaderFor(const FakeCorpus* corpus, uint32_t block_size = 4096) {
  ContainerHeader h;
  h.block_size = block_size;
  if (corpus == nullptr) {
    h.flags = format::kFlagStandalone;
    return h;
  }
  h.chunking = corpus->info().chunking;
  h.corpus_id = *ParseCorpusId(corpus->info().id);
  h.manifest_digest = corpus->info().manifest_digest;
  return h;
}

// Builds containers record by record, right or deliberately wrong.
class Crafter {
 public:
  explicit Crafter(const ContainerHeader& header) : sink_(MemorySink(&bytes_)), writer_(*sink_) {
    EXPECT_TRUE(writer_.WriteHeader(header).ok());
  }
  // A block whose digest and size are those of `output`.
  void Block(const InstructionWriter& w, std::span<const uint8_t> output) {
    Block(w.bytes(), output);
  }
  // Version 1: the instructions compressed as a zstd frame of their own.
  void Block(std::span<const uint8_t> instructions, std::span<const uint8_t> output) {
    BlockRecord record;
    record.payload.resize(ZSTD_compressBound(instructions.size()));
    size_t n = ZSTD_compress(record.payload.data(), record.payload.size(), instructions.data(),
                             instructions.size(), 3);
    ASSERT_FALSE(ZSTD_isError(n));
    record.payload.resize(n);
    FinishBlockRecord(static_cast<uint32_t>(instructions.size()),
                      static_cast<uint32_t>(output.size()), Blake3(output), &record);
    EXPECT_TRUE(writer_.WriteBlockRecord(record).ok());
    whole_.Update(output);
    total_ += output.size();
    ++blocks_;
  }
  void Raw(std::span<const uint8_t> bytes) { bytes_.append(AsString(bytes)); }
  // The trailer that matches the blocks written.
  std::string Finish() {
    EXPECT_TRUE(writer_.WriteTrailer({total_, blocks_, whole_.Final()}).ok());
    return bytes_;
  }
  std::string FinishWith(const Trailer& trailer) {
    EXPECT_TRUE(writer_.WriteTrailer(trailer).ok());
    return bytes_;
  }
  Trailer RightTrailer() const { return {total_, blocks_, whole_.Final()}; }

 private:
  std::string bytes_;
  std::unique_ptr<ByteSink> sink_;
  ContainerWriter writer_;
  Blake3Hasher whole_;
  uint64_t total_ = 0;
  uint64_t blocks_ = 0;
};

TEST(CodecDamageTest, EveryFlippedBitIsDetected) {
  FakeCorpus corpus = MakeCorpus();
  std::vector<uint8_t> target = MixedTarget(corpus);
  struct Case {
    const char* name;
    const CorpusReader* corpus;
    std::string container;
  };
  const Case cases[] = {
      {"corpus", &corpus, MustEncode(&corpus, target)},
      {"standalone", nullptr, MustEncode(nullptr, RandomBytes(9000, 8))},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_LT(c.container.size(), 20000u);
    for (size_t i = 0; i < c.container.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = c.container;
        damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
        std::string output;
        auto result = DecodeFromString(damaged, c.corpus, &output);
        ASSERT_FALSE(result.ok()) << "byte " << i << " bit " << bit;
        StatusCode code = result.status().code();
        ASSERT_TRUE(code == StatusCode::kCorrupt || code == StatusCode::kIntegrity ||
                    code == StatusCode::kUnavailable)
            << "byte " << i << " bit " << bit << ": " << result.status().ToString();
      }
    }
  }
}

// Blocks are rebuilt in parallel, but the error is the one of the first damaged
// record in container order, as with one thread.
TEST(CodecDamageTest, ErrorsDoNotDependOnThreads) {
  FakeCorpus corpus = MakeCorpus();
  std::string container = MustEncode(&corpus, MixedTarget(corpus));
  auto decode = [&](const std::string& damaged, int threads) {
    std::string output;
    return DecodeFromString(damaged, &corpus, &output, threads).status().ToString();
  };
  for (size_t i = 0; i < container.size(); ++i) {
    std::string damaged = container;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 << (i % 8)));
    std::string expected = decode(damaged, 1);
    for (int threads : {2, 4}) ASSERT_EQ(decode(damaged, threads), expected) << "byte " << i;
  }
  // Two damaged blocks: the first one is reported, wherever it lies.
  std::string twice = container;
  twice[container.size() / 4] ^= 1;
  twice[container.size() * 3 / 4] ^= 1;
  EXPECT_EQ(decode(twice, 4), decode(twice, 1));
}

TEST(CodecDamageTest, EveryTruncationIsDetected) {
  FakeCorpus corpus = MakeCorpus();
  std::string container = MustEncode(&corpus, MixedTarget(corpus));
  for (size_t n = 0; n < container.size(); ++n) {
    std::string output;
    auto result = DecodeFromString(container.substr(0, n), &corpus, &output);
    ASSERT_FALSE(result.ok()) << n;
    ASSERT_EQ(result.status().code(), StatusCode::kCorrupt)
        << n << ": " << result.status().ToString();
    if (n > format::kMagic.size()) {
      EXPECT_NE(result.status().message().find("truncated container"), std::string::npos)
          << n << ": " << result.status().ToString();
    }
  }
  std::string output;
  EXPECT_TRUE(DecodeFromString(container, &corpus, &output).ok());
}

TEST(CodecDamageTest, TrailingDataIsCorrupt) {
  std::string container = MustEncode(nullptr, RandomBytes(5000, 9));
  for (const std::string& extra : {std::string(1, '\0'), std::string("garbage\n"), container}) {
    Status s = ExpectDecodeFails(container + extra, nullptr);
    EXPECT_EQ(s.code(), StatusCode::kCorrupt);
    EXPECT_NE(s.message().find("trailing data"), std::string::npos) << s.ToString();
  }
}

TEST(CodecDamageTest, NotAContainer) {
  Status s = ExpectDecodeFails(
      "just some text, long enough to look like a header at first "
      "sight but it is not one at all",
      nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("not a Reducto container"), std::string::npos);
  EXPECT_EQ(ExpectDecodeFails("", nullptr).code(), StatusCode::kCorrupt);
}

TEST(CodecDamageTest, WrongCorpusIsRefused) {
  FakeCorpus corpus = MakeCorpus();
  std::string container = MustEncode(&corpus, MixedTarget(corpus));

  FakeCorpus other = MakeCorpus("11111111-2222-4333-8444-555555555555");
  Status s = ExpectDecodeFails(container, &other);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("was made against corpus 0f8fad5b-d9cb-469f-a165-70867728950e"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("is corpus 11111111-2222-4333-8444-555555555555"), std::string::npos);
  EXPECT_NE(s.message().find("pass -c with corpus 0f8fad5b-d9cb-469f-a165-70867728950e"),
            std::string::npos);

  FakeCorpus modified = MakeCorpus();
  modified.mutable_info().manifest_digest[0] ^= 1;
  s = ExpectDecodeFails(container, &modified);
  EXPECT_EQ(s.code(), StatusCode::kIntegrity);
  EXPECT_NE(s.message().find("modified or damaged"), std::string::npos) << s.ToString();

  FakeCorpus rechunked = MakeCorpus();
  rechunked.mutable_info().chunking = ChunkerParams::ForAverage(512);
  EXPECT_EQ(ExpectDecodeFails(container, &rechunked).code(), StatusCode::kCorrupt);

  s = ExpectDecodeFails(container, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(CodecDamageTest, StandaloneNeverAsksForACorpus) {
  std::string container = MustEncode(nullptr, RandomBytes(100, 1));
  std::string output;
  auto source = MemorySource(AsBytes(container));
  auto sink = MemorySink(&output);
  bool asked = false;
  auto result =
      DecodeContainer(*source, *sink, [&](const ContainerHeader&) -> Result<const CorpusReader*> {
        asked = true;
        return Status::NotFound("no");
      });
  EXPECT_TRUE(result.ok());
  EXPECT_FALSE(asked);
}

TEST(CodecDamageTest, CraftedValidContainerDecodes) {
  // The crafting helpers themselves produce valid containers when used correctly.
  FakeCorpus corpus = MakeCorpus();
  Crafter crafter(HeaderFor(&corpus));
  InstructionWriter w;
  std::vector<uint8_t> hi = {'h', 'i'};
  w.Literal(hi);
  w.Copy(100, 20);
  std::vector<uint8_t> output = hi;
  output.insert(output.end(), corpus.bytes().begin() + 100, corpus.bytes().begin() + 120);
  crafter.Block(w, output);
  std::string decoded;
  auto result = DecodeFromString(crafter.Finish(), &corpus, &decoded);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(decoded, AsString(output));
}

TEST(CodecDamageTest, CopyOutOfBoundsIsCorrupt) {
  FakeCorpus corpus = MakeCorpus();
  for (uint64_t address :
       {corpus.size() - 5, corpus.size(), corpus.size() + 1000, ~uint64_t{0} - 3}) {
    Crafter crafter(HeaderFor(&corpus));
    InstructionWriter w;
    w.Copy(address, 10);
    crafter.Block(w, std::vector<uint8_t>(10, 0));
    Status s = ExpectDecodeFails(crafter.Finish(), &corpus);
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << address;
    EXPECT_NE(s.message().find("runs past the end of the corpus"), std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find("block 0"), std::string::npos) << s.ToString();
  }
}

TEST(CodecDamageTest, CopyInAStandaloneContainerIsCorrupt) {
  Crafter crafter(HeaderFor(nullptr));
  InstructionWriter w;
  w.Copy(0, 16);
  crafter.Block(w, std::vector<uint8_t>(16, 0));
  EXPECT_EQ(ExpectDecodeFails(crafter.Finish(), nullptr).code(), StatusCode::kCorrupt);
}

TEST(CodecDamageTest, UnknownOpcodeIsCorrupt) {
  Crafter crafter(HeaderFor(nullptr));
  std::vector<uint8_t> stream = {0x02, 1, 'x'};
  crafter.Block(stream, std::vector<uint8_t>{'x'});
  Status s = ExpectDecodeFails(crafter.Finish(), nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x02"), std::string::npos) << s.ToString();
}

TEST(CodecDamageTest, BlockDigestMismatchIsIntegrity) {
  Crafter crafter(HeaderFor(nullptr));
  InstructionWriter w;
  std::vector<uint8_t> abc = {'a', 'b', 'c'};
  w.Literal(abc);
  crafter.Block(w, std::vector<uint8_t>{'a', 'b', 'd'});  // Digest of other bytes.
  std::string output;
  auto result = DecodeFromString(crafter.Finish(), nullptr, &output);
  EXPECT_EQ(result.status().code(), StatusCode::kIntegrity);
  EXPECT_TRUE(output.empty()) << "an unverified block was written";
}

TEST(CodecDamageTest, InstructionsThatProduceTheWrongSizeAreCorrupt) {
  InstructionWriter w;
  std::vector<uint8_t> abc = {'a', 'b', 'c'};
  w.Literal(abc);
  for (size_t declared : {2, 4}) {
    Crafter crafter(HeaderFor(nullptr));
    crafter.Block(w, std::vector<uint8_t>(declared, 'a'));
    EXPECT_EQ(ExpectDecodeFails(crafter.Finish(), nullptr).code(), StatusCode::kCorrupt);
  }
}

TEST(CodecDamageTest, TrailerMustMatchTheBlocks) {
  auto block = [](Crafter* c) {
    InstructionWriter w;
    std::vector<uint8_t> abc = {'a', 'b', 'c'};
    w.Literal(abc);
    c->Block(w, abc);
  };
  {
    Crafter c(HeaderFor(nullptr));
    block(&c);
    Trailer t = c.RightTrailer();
    t.output_size += 1;
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith(t), nullptr).code(), StatusCode::kCorrupt);
  }
  {
    Crafter c(HeaderFor(nullptr));
    block(&c);
    Trailer t = c.RightTrailer();
    t.block_count = 2;
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith(t), nullptr).code(), StatusCode::kCorrupt);
  }
  {
    Crafter c(HeaderFor(nullptr));
    block(&c);
    Trailer t = c.RightTrailer();
    t.output_digest[31] ^= 1;
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith(t), nullptr).code(), StatusCode::kIntegrity);
  }
}

TEST(CodecDamageTest, UnknownRecordKindIsCorrupt) {
  Crafter crafter(HeaderFor(nullptr));
  std::vector<uint8_t> kind = {0x03};
  crafter.Raw(kind);
  Status s = ExpectDecodeFails(crafter.Finish(), nullptr);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown record kind"), std::string::npos);
}

// Writes a block record with `payload` as given.
void RawBlock(Crafter* crafter, std::span<const uint8_t> payload, uint32_t instruction_size,
              std::span<const uint8_t> output) {
  BlockHeader header;
  header.payload_size = static_cast<uint32_t>(payload.size());
  header.instruction_size = instruction_size;
  header.output_size = static_cast<uint32_t>(output.size());
  header.output_digest = Blake3(output);
  header.payload_hash = PayloadHash(payload);
  crafter->Raw(EncodeBlockHeader(header));
  crafter->Raw(payload);
}

std::vector<uint8_t> ZstdFrame(std::span<const uint8_t> data, bool content_size = true) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
  std::vector<uint8_t> out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

TEST(CodecDamageTest, PayloadMustBeExactlyOneFrameOfTheDeclaredSize) {
  std::vector<uint8_t> output = {'a', 'b', 'c', 'd'};
  std::vector<uint8_t> first = {0x00, 2, 'a', 'b'};
  std::vector<uint8_t> second = {0x00, 2, 'c', 'd'};
  std::vector<uint8_t> whole = {0x00, 4, 'a', 'b', 'c', 'd'};
  {  // Two frames that together decompress to a valid stream.
    Crafter c(HeaderFor(nullptr));
    std::vector<uint8_t> payload = ZstdFrame(first);
    std::vector<uint8_t> tail = ZstdFrame(second);
    payload.insert(payload.end(), tail.begin(), tail.end());
    RawBlock(&c, payload, 8, output);
    Status s = ExpectDecodeFails(c.FinishWith({4, 1, Blake3(output)}), nullptr);
    EXPECT_EQ(s.code(), StatusCode::kCorrupt);
    EXPECT_NE(s.message().find("one zstd frame"), std::string::npos) << s.ToString();
  }
  {  // A frame that does not declare its content size.
    Crafter c(HeaderFor(nullptr));
    RawBlock(&c, ZstdFrame(whole, false), 6, output);
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith({4, 1, Blake3(output)}), nullptr).code(),
              StatusCode::kCorrupt);
  }
  {  // A frame of another size than declared.
    Crafter c(HeaderFor(nullptr));
    RawBlock(&c, ZstdFrame(whole), 7, output);
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith({4, 1, Blake3(output)}), nullptr).code(),
              StatusCode::kCorrupt);
  }
  {  // Not zstd at all.
    Crafter c(HeaderFor(nullptr));
    RawBlock(&c, whole, 6, output);
    EXPECT_EQ(ExpectDecodeFails(c.FinishWith({4, 1, Blake3(output)}), nullptr).code(),
              StatusCode::kCorrupt);
  }
  {  // And the same frame, properly declared, decodes.
    Crafter c(HeaderFor(nullptr));
    RawBlock(&c, ZstdFrame(whole), 6, output);
    std::string decoded;
    EXPECT_TRUE(DecodeFromString(c.FinishWith({4, 1, Blake3(output)}), nullptr, &decoded).ok());
  }
}

TEST(CodecDamageTest, BlockLargerThanTheHeaderAllowsIsCorrupt) {
  Crafter crafter(HeaderFor(nullptr, 4096));
  std::vector<uint8_t> big(4097, 'z');
  InstructionWriter w;
  w.Literal(big);
  crafter.Block(w, big);
  EXPECT_EQ(ExpectDecodeFails(crafter.Finish(), nullptr).code(), StatusCode::kCorrupt);
}

// A decompression bomb: a few hundred container bytes whose copies produce 64 KiB per
// block. With an output limit, the block that would cross it is refused before it is
// decoded, and nothing past the limit reaches the sink.
TEST(CodecDamageTest, OutputLimitRefusesTheBlockThatCrossesIt) {
  FakeCorpus corpus = MakeCorpus();
  constexpr uint32_t kBlock = 64u << 10;
  Crafter crafter(HeaderFor(&corpus, kBlock));
  InstructionWriter w;
  std::vector<uint8_t> output;
  while (output.size() + 16000 <= kBlock) {
    w.Copy(0, 16000);
    output.insert(output.end(), corpus.bytes().begin(), corpus.bytes().begin() + 16000);
  }
  for (int i = 0; i < 8; ++i) crafter.Block(w, output);
  const std::string container = crafter.Finish();
  const uint64_t total = 8 * output.size();
  ASSERT_LT(container.size(), 2000u);

  std::string decoded;
  for (int threads : {1, 3}) {
    ASSERT_TRUE(DecodeFromString(container, &corpus, &decoded, threads, total).ok());
    EXPECT_EQ(decoded.size(), total);
    for (uint64_t limit : {total - 1, 3 * output.size() + 1, uint64_t{1}}) {
      auto result = DecodeFromString(container, &corpus, &decoded, threads, limit);
      ASSERT_FALSE(result.ok()) << "limit " << limit;
      EXPECT_EQ(result.status().code(), StatusCode::kPermission);
      EXPECT_NE(result.status().message().find("--max-output"), std::string::npos);
      EXPECT_LE(decoded.size(), limit);
    }
  }
}

TEST(CodecDamageTest, VerifiedBlocksPrecedeTheError) {
  // Blocks before a damaged one are written (verified); the caller discards them
  // because the result is an error.
  std::string container = MustEncode(nullptr, RandomBytes(9000, 3));
  container[container.size() - format::kTrailerSize - 10] ^= 1;  // Inside the last block.
  std::string output;
  auto result = DecodeFromString(container, nullptr, &output);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(output.size(), 8192u);
}

}  // namespace
}  // namespace reducto
