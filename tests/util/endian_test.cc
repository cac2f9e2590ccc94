#include "util/endian.h"

#include <gtest/gtest.h>

#include <string>

namespace reducto {
namespace {

TEST(EndianTest, LittleAndBigEndianByteOrders) {
  uint8_t le[8], be[8];
  StoreLe(le, uint64_t{0x0102030405060708});
  StoreBe(be, uint64_t{0x0102030405060708});
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(le[i], 8 - i);
    EXPECT_EQ(be[i], i + 1);
  }
  EXPECT_EQ(LoadLe64(le), 0x0102030405060708u);
  EXPECT_EQ(LoadBe<uint64_t>(be), 0x0102030405060708u);
  EXPECT_EQ(LoadBe<uint32_t>(be), 0x01020304u);
}

TEST(EndianTest, CharBuffersAndSignedValues) {
  std::string buffer(12, '\0');
  StoreLe(buffer.data(), int64_t{-2});
  StoreLe(buffer.data() + 8, uint32_t{0xfffffffe});
  EXPECT_EQ(LoadLe<int64_t>(buffer.data()), -2);
  EXPECT_EQ(LoadLe<uint32_t>(buffer.data() + 8), 0xfffffffeu);
  StoreBe(buffer.data(), uint64_t{1});
  EXPECT_EQ(buffer[7], 1);
  EXPECT_EQ(LoadBe<uint64_t>(buffer.data()), 1u);
  // Big-endian keys sort as the numbers they hold.
  std::string a(8, '\0'), b(8, '\0');
  StoreBe(a.data(), uint64_t{255});
  StoreBe(b.data(), uint64_t{256});
  EXPECT_LT(a, b);
}

}  // namespace
}  // namespace reducto
