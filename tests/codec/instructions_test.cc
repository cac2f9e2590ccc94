#include "codec/instructions.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

#include "codec/format.h"
#include "codec_test_util.h"
#include "fake_corpus.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::AsString;
using testing::FakeCorpus;

FakeCorpus MakeCorpus(size_t size = 1000) {
  return FakeCorpus(testing::RandomBytes(size, 7), ChunkerParams::ForAverage(256));
}

Status Execute(const std::vector<uint8_t>& stream, const CorpusReader* corpus, size_t output_size,
               std::string* output = nullptr, uint16_t version = format::kVersion) {
  std::vector<uint8_t> out(output_size), scratch;
  ExecuteContext context;
  context.version = version;
  Status s = ExecuteInstructions(stream, corpus, out, &scratch, context);
  if (output != nullptr) *output = AsString(out);
  return s;
}

TEST(VarintTest, KnownEncodings) {
  std::vector<uint8_t> out;
  AppendVarint(0, &out);
  AppendVarint(127, &out);
  AppendVarint(128, &out);
  AppendVarint(300, &out);
  EXPECT_EQ(out, (std::vector<uint8_t>{0x00, 0x7f, 0x80, 0x01, 0xac, 0x02}));
  out.clear();
  AppendVarint(std::numeric_limits<uint64_t>::max(), &out);
  EXPECT_EQ(out.size(), format::kMaxVarintSize);
  EXPECT_EQ(out.back(), 0x01);
}

RC_GTEST_PROP(ZigZagTest, RoundTrips, (int64_t value)) {
  RC_ASSERT(ZigZagDecode(ZigZagEncode(value)) == value);
}

TEST(ZigZagTest, SmallMagnitudesAreSmall) {
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
}

TEST(ExecuteInstructionsTest, LiteralsAndCopies) {
  FakeCorpus corpus = MakeCorpus();
  InstructionWriter w;
  std::vector<uint8_t> hello = {'h', 'i'};
  w.Literal(hello);
  w.Copy(100, 50);
  w.Copy(10, 20);  // Backwards: a negative delta.
  w.Copy(30, 5);   // Continues the previous copy: delta 0.
  std::string out;
  ASSERT_TRUE(Execute(w.bytes(), &corpus, 77, &out).ok());
  std::string expected = "hi" + AsString(std::span(corpus.bytes()).subspan(100, 50)) +
                         AsString(std::span(corpus.bytes()).subspan(10, 25));
  EXPECT_EQ(out, expected);
}

TEST(ExecuteInstructionsTest, DeltaBaseIsTheEndOfThePreviousCopy) {
  InstructionWriter w;
  w.Copy(100, 50);
  w.Copy(150, 10);
  // opcode, zigzag(100) = 200 (2 bytes), len 50, opcode, delta 0, len 10.
  EXPECT_EQ(w.bytes(), (std::vector<uint8_t>{0x01, 0xc8, 0x01, 50, 0x01, 0x00, 10}));
  w.Clear();
  w.Copy(3, 1);
  EXPECT_EQ(w.bytes(), (std::vector<uint8_t>{0x01, 6, 1}));
}

TEST(ExecuteInstructionsTest, CopyPastTheCorpusEndIsCorrupt) {
  FakeCorpus corpus = MakeCorpus(1000);
  InstructionWriter w;
  w.Copy(990, 11);
  Status s = Execute(w.bytes(), &corpus, 11);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("past the end of the corpus"), std::string::npos) << s.ToString();
  w.Clear();
  w.Copy(990, 10);  // Ends exactly at the end: fine.
  EXPECT_TRUE(Execute(w.bytes(), &corpus, 10).ok());
}

TEST(ExecuteInstructionsTest, CopyAddressesThatWrapAroundAreCaught) {
  FakeCorpus corpus = MakeCorpus(1000);
  // address + length overflows 64 bits: must not pass a naive `address + len <= size`.
  InstructionWriter w;
  w.Copy(std::numeric_limits<uint64_t>::max() - 5, 10);
  EXPECT_EQ(Execute(w.bytes(), &corpus, 10).code(), StatusCode::kCorrupt);
  // A delta that wraps the address below zero.
  std::vector<uint8_t> stream = {format::kOpCopy};
  AppendVarint(ZigZagEncode(-1), &stream);
  AppendVarint(10, &stream);
  EXPECT_EQ(Execute(stream, &corpus, 10).code(), StatusCode::kCorrupt);
}

TEST(ExecuteInstructionsTest, StandaloneHasNoCorpusToCopyFrom) {
  InstructionWriter w;
  w.Copy(0, 1);
  Status s = Execute(w.bytes(), nullptr, 1);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("standalone"), std::string::npos);
}

TEST(ExecuteInstructionsTest, UnknownOpcodeIsCorrupt) {
  for (int op = 0x02; op <= 0xff; ++op) {
    std::vector<uint8_t> stream = {static_cast<uint8_t>(op), 1, 'x'};
    Status s = Execute(stream, nullptr, 1);
    ASSERT_EQ(s.code(), StatusCode::kCorrupt) << op;
    EXPECT_NE(s.message().find("unknown opcode"), std::string::npos);
  }
}

// ADD (version 4): the corpus bytes plus the stored bytes; its end is the next delta base.
TEST(ExecuteInstructionsTest, AddAddsToTheCorpusBytes) {
  FakeCorpus corpus = MakeCorpus();
  std::vector<uint8_t> stored = {0, 0, 1, 0, 0xff};
  InstructionWriter w;
  w.Add(200, stored);
  w.Copy(205, 20);  // Continues the ADD: delta 0.
  EXPECT_EQ(w.bytes()[0], format::kOpAdd);
  std::string out;
  ASSERT_TRUE(Execute(w.bytes(), &corpus, 25, &out, format::kVersion4).ok());
  std::string expected = AsString(std::span(corpus.bytes()).subspan(200, 25));
  expected[2] = static_cast<char>(expected[2] + 1);
  expected[4] = static_cast<char>(expected[4] - 1);
  EXPECT_EQ(out, expected);
  // Before version 4, 0x03 is an unknown opcode.
  Status s = Execute(w.bytes(), &corpus, 25, nullptr, format::kVersion3);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("unknown opcode 0x03"), std::string::npos) << s.ToString();
}

TEST(ExecuteInstructionsTest, AddIsBoundedByCorpusAndStream) {
  FakeCorpus corpus = MakeCorpus(1000);
  std::vector<uint8_t> stored(11, 0);
  InstructionWriter w;
  w.Add(990, stored);  // One byte past the corpus.
  Status s = Execute(w.bytes(), &corpus, 11, nullptr, format::kVersion4);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_NE(s.message().find("past the end of the corpus"), std::string::npos) << s.ToString();
  EXPECT_EQ(Execute(w.bytes(), nullptr, 11, nullptr, format::kVersion4).code(),
            StatusCode::kCorrupt);  // Standalone: no corpus.
  // Stored bytes missing from the stream.
  std::vector<uint8_t> cut = {format::kOpAdd, 0, 4, 1, 2};
  EXPECT_EQ(Execute(cut, &corpus, 4, nullptr, format::kVersion4).code(), StatusCode::kCorrupt);
  // Longer than the block.
  std::vector<uint8_t> longer = {format::kOpAdd, 0, 3, 1, 2, 3};
  EXPECT_EQ(Execute(longer, &corpus, 2, nullptr, format::kVersion4).code(), StatusCode::kCorrupt);
}

TEST(ExecuteInstructionsTest, LengthsAreBounded) {
  FakeCorpus corpus = MakeCorpus();
  // Zero-length literal and copy.
  EXPECT_EQ(Execute({0x00, 0x00}, nullptr, 0).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute({0x01, 0x00, 0x00}, &corpus, 0).code(), StatusCode::kCorrupt);
  // Longer than the block's output.
  EXPECT_EQ(Execute({0x00, 3, 'a', 'b', 'c'}, nullptr, 2).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute({0x01, 0x00, 3}, &corpus, 2).code(), StatusCode::kCorrupt);
  // A literal whose bytes are missing from the stream.
  EXPECT_EQ(Execute({0x00, 3, 'a', 'b'}, nullptr, 3).code(), StatusCode::kCorrupt);
  // Stream ends before the output is complete, or goes on after it.
  EXPECT_EQ(Execute({0x00, 1, 'a'}, nullptr, 2).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute({0x00, 1, 'a', 0x00, 1, 'b'}, nullptr, 1).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Execute({}, nullptr, 1).code(), StatusCode::kCorrupt);
  EXPECT_TRUE(Execute({0x00, 2, 'a', 'b'}, nullptr, 2).ok());
}

TEST(ExecuteInstructionsTest, VarintsMustBeCanonicalAndFit64Bits) {
  // Truncated varint.
  EXPECT_EQ(Execute({0x00, 0x80}, nullptr, 1).code(), StatusCode::kCorrupt);
  // Overlong encoding of 1.
  EXPECT_EQ(Execute({0x00, 0x81, 0x00, 'a'}, nullptr, 1).code(), StatusCode::kCorrupt);
  // 11 bytes.
  std::vector<uint8_t> eleven = {0x00};
  for (int i = 0; i < 10; ++i) eleven.push_back(0x80);
  eleven.push_back(0x01);
  EXPECT_EQ(Execute(eleven, nullptr, 1).code(), StatusCode::kCorrupt);
  // 10 bytes with more than 64 bits.
  std::vector<uint8_t> wide = {0x00};
  for (int i = 0; i < 9; ++i) wide.push_back(0xff);
  wide.push_back(0x02);
  EXPECT_EQ(Execute(wide, nullptr, 1).code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace reducto
