# BLAKE3's official C implementation with its x86-64 SIMD back ends (SSE2, SSE4.1,
# AVX2, AVX-512; chosen at run time by blake3_dispatch.c), compiled from the sources
# that Debian ships in librust-blake3-dev.
file(GLOB BLAKE3_DIRS /usr/share/cargo/registry/blake3-*/c)
list(SORT BLAKE3_DIRS)
list(POP_BACK BLAKE3_DIRS BLAKE3_C_DIR)
if(NOT EXISTS "${BLAKE3_C_DIR}/blake3.h")
  message(FATAL_ERROR "BLAKE3 C sources not found: run scripts/setup.sh (installs librust-blake3-dev)")
endif()
message(STATUS "BLAKE3 C sources: ${BLAKE3_C_DIR}")

add_library(blake3 STATIC
  ${BLAKE3_C_DIR}/blake3.c
  ${BLAKE3_C_DIR}/blake3_dispatch.c
  ${BLAKE3_C_DIR}/blake3_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_sources(blake3 PRIVATE
    ${BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S)
else()
  target_compile_definitions(blake3 PRIVATE BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
target_include_directories(blake3 SYSTEM PUBLIC ${BLAKE3_C_DIR})
set_target_properties(blake3 PROPERTIES POSITION_INDEPENDENT_CODE ON)
