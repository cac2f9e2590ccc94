// Little-endian fixed-width integers in byte buffers: the byte order of every Reducto
// format (containers, envelopes, fine indexes). Written byte by byte, so they work on
// any host and at any alignment; compilers turn them into single loads and stores.
#ifndef REDUCTO_UTIL_ENDIAN_H_
#define REDUCTO_UTIL_ENDIAN_H_

#include <cstdint>

namespace reducto {

template <typename T>
inline void StoreLe(uint8_t* p, T v) {
  for (unsigned i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

template <typename T>
inline T LoadLe(const uint8_t* p) {
  T v = 0;
  for (int i = static_cast<int>(sizeof(T)) - 1; i >= 0; --i) v = static_cast<T>(v << 8 | p[i]);
  return v;
}

inline void StoreLe16(uint8_t* p, uint16_t v) { StoreLe(p, v); }
inline void StoreLe32(uint8_t* p, uint32_t v) { StoreLe(p, v); }
inline void StoreLe64(uint8_t* p, uint64_t v) { StoreLe(p, v); }
inline uint16_t LoadLe16(const uint8_t* p) { return LoadLe<uint16_t>(p); }
inline uint32_t LoadLe32(const uint8_t* p) { return LoadLe<uint32_t>(p); }
inline uint64_t LoadLe64(const uint8_t* p) { return LoadLe<uint64_t>(p); }

}  // namespace reducto

#endif  // REDUCTO_UTIL_ENDIAN_H_
