// Fixed-width integers in byte buffers, the one place that spells out byte orders.
// Little-endian is the byte order of every Reducto format (containers, envelopes, fine
// indexes, values in the RocksDB databases, usage runs); big-endian is for database keys
// that must sort as the numbers they hold (chunk index, usage store, optimize's ranking).
// They work at any alignment. Signed types are stored as their two's complement.
// Little-endian values are copied with memcpy on little-endian hosts (one load or
// store) and assembled byte by byte elsewhere: GCC 12 at -O2 left the byte loops as
// loops, a tenth of the instructions of decoding an ADD-heavy container.
#ifndef REDUCTO_UTIL_ENDIAN_H_
#define REDUCTO_UTIL_ENDIAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

namespace reducto {

template <typename T>
inline void StoreLe(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    for (unsigned i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

template <typename T>
inline T LoadLe(const uint8_t* p) {
  T v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    for (int i = static_cast<int>(sizeof(T)) - 1; i >= 0; --i) {
      v = static_cast<T>(v << 8 | p[i]);
    }
  }
  return v;
}

// The same over bytes held as char (RocksDB slices, std::string buffers).
template <typename T>
inline void StoreLe(char* p, T v) {
  StoreLe(reinterpret_cast<uint8_t*>(p), v);
}
template <typename T>
inline T LoadLe(const char* p) {
  return LoadLe<T>(reinterpret_cast<const uint8_t*>(p));
}

// Big-endian: the most significant byte first.
template <typename T>
inline void StoreBe(uint8_t* p, T v) {
  for (unsigned i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
  }
}
template <typename T>
inline T LoadBe(const uint8_t* p) {
  T v = 0;
  for (unsigned i = 0; i < sizeof(T); ++i) v = static_cast<T>(v << 8 | p[i]);
  return v;
}
template <typename T>
inline void StoreBe(char* p, T v) {
  StoreBe(reinterpret_cast<uint8_t*>(p), v);
}
template <typename T>
inline T LoadBe(const char* p) {
  return LoadBe<T>(reinterpret_cast<const uint8_t*>(p));
}

inline void StoreLe16(uint8_t* p, uint16_t v) { StoreLe(p, v); }
inline void StoreLe32(uint8_t* p, uint32_t v) { StoreLe(p, v); }
inline void StoreLe64(uint8_t* p, uint64_t v) { StoreLe(p, v); }
inline uint16_t LoadLe16(const uint8_t* p) { return LoadLe<uint16_t>(p); }
inline uint32_t LoadLe32(const uint8_t* p) { return LoadLe<uint32_t>(p); }
inline uint64_t LoadLe64(const uint8_t* p) { return LoadLe<uint64_t>(p); }

}  // namespace reducto

#endif  // REDUCTO_UTIL_ENDIAN_H_
