"""The declarations of include/reducto/reducto.h, for cffi's ABI mode.

cffi parses C declarations, not the header itself (no preprocessor, no REDUCTO_API), so
this is a copy; tests/test_cdef.py fails when the header declares a reducto_ function or
type that is missing here or declared differently. Keep the header's order.
"""

CDEF = """
unsigned reducto_version_number(void);
const char* reducto_version_string(void);

enum {
  REDUCTO_OK = 0,
  REDUCTO_E_INVALID_ARGUMENT = 1,
  REDUCTO_E_NOT_FOUND = 2,
  REDUCTO_E_CORRUPT = 3,
  REDUCTO_E_INTEGRITY = 4,
  REDUCTO_E_IO = 5,
  REDUCTO_E_UNAVAILABLE = 6,
  REDUCTO_E_PERMISSION = 7,
  REDUCTO_E_INVALID_HANDLE = 20,
  REDUCTO_E_BUFFER_TOO_SMALL = 21,
  REDUCTO_E_CALLBACK = 22,
  REDUCTO_E_STATE = 23,
  REDUCTO_E_NO_MEMORY = 24,
  REDUCTO_E_INTERNAL = 25
};

const char* reducto_error_name(int code);
const char* reducto_error_remedy(int code);
const char* reducto_last_error_message(void);

typedef struct reducto_settings reducto_settings;
typedef struct reducto_session reducto_session;

int reducto_settings_create(reducto_settings** settings);
int reducto_settings_free(reducto_settings* settings);
int reducto_settings_set(reducto_settings* settings, const char* key, const char* value);
int reducto_session_create(const reducto_settings* settings, reducto_session** session);
int reducto_session_free(reducto_session* session);

typedef struct reducto_params reducto_params;

int reducto_params_create(reducto_params** params);
int reducto_params_free(reducto_params* params);
int reducto_params_set(reducto_params* params, const char* key, const char* value);

typedef struct reducto_corpus reducto_corpus;

int reducto_corpus_open(reducto_session* session, const char* path,
                        const reducto_params* params, reducto_corpus** corpus);
int reducto_corpus_free(reducto_corpus* corpus);
const char* reducto_corpus_id(const reducto_corpus* corpus);
const char* reducto_corpus_info_json(const reducto_corpus* corpus);
int reducto_corpus_build(reducto_session* session, const char* const* inputs,
                         size_t input_count, const char* out_dir,
                         const reducto_params* params);
int reducto_corpus_verify(reducto_session* session, const char* path);

typedef struct reducto_stats {
  uint64_t input_bytes;
  uint64_t output_bytes;
  uint64_t copy_bytes;
  uint64_t literal_bytes;
  uint64_t delta_bytes;
  uint64_t blocks;
  int standalone;
  int fell_back;
  uint64_t reserved[8];
} reducto_stats;

int reducto_compress(reducto_session* session, const reducto_corpus* corpus,
                     const reducto_params* params, const void* src, size_t src_size,
                     void* dst, size_t dst_capacity, size_t* dst_size, reducto_stats* stats);
int reducto_decompress(reducto_session* session, const reducto_corpus* corpus,
                       const reducto_params* params, const void* src, size_t src_size,
                       void* dst, size_t dst_capacity, size_t* dst_size,
                       reducto_stats* stats);

int reducto_compress_file(reducto_session* session, const reducto_corpus* corpus,
                          const reducto_params* params, const char* in_path,
                          const char* out_path, reducto_stats* stats);
int reducto_decompress_file(reducto_session* session, const reducto_corpus* corpus,
                            const reducto_params* params, const char* in_path,
                            const char* out_path, reducto_stats* stats);

typedef int64_t (*reducto_read_fn)(void* context, void* buffer, size_t capacity);
typedef int (*reducto_write_fn)(void* context, const void* buffer, size_t size);

int reducto_compress_callbacks(reducto_session* session, const reducto_corpus* corpus,
                               const reducto_params* params, reducto_read_fn read,
                               void* read_context, reducto_write_fn write,
                               void* write_context, reducto_stats* stats);
int reducto_decompress_callbacks(reducto_session* session, const reducto_corpus* corpus,
                                 const reducto_params* params, reducto_read_fn read,
                                 void* read_context, reducto_write_fn write,
                                 void* write_context, reducto_stats* stats);
const char* reducto_last_metrics_json(void);

typedef struct reducto_in_buffer {
  const void* src;
  size_t size;
  size_t pos;
} reducto_in_buffer;

typedef struct reducto_out_buffer {
  void* dst;
  size_t size;
  size_t pos;
} reducto_out_buffer;

typedef struct reducto_cstream reducto_cstream;
typedef struct reducto_dstream reducto_dstream;

int reducto_cstream_create(reducto_session* session, const reducto_corpus* corpus,
                           const reducto_params* params, reducto_cstream** stream);
int reducto_cstream_free(reducto_cstream* stream);
int reducto_cstream_compress(reducto_cstream* stream, reducto_out_buffer* out,
                             reducto_in_buffer* in, int end, int* done);
int reducto_cstream_stats(const reducto_cstream* stream, reducto_stats* stats);

int reducto_dstream_create(reducto_session* session, const reducto_corpus* corpus,
                           const reducto_params* params, reducto_dstream** stream);
int reducto_dstream_free(reducto_dstream* stream);
int reducto_dstream_decompress(reducto_dstream* stream, reducto_out_buffer* out,
                               reducto_in_buffer* in, int end, int* done);
int reducto_dstream_stats(const reducto_dstream* stream, reducto_stats* stats);
"""
