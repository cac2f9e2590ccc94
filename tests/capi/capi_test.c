/* The C ABI (include/reducto/reducto.h) from plain C11: round trips through every way
 * in (buffers, files, callbacks, push/pull streams with any chunking), the policies
 * (trust, audit, usage) as the command line applies them, and misuse.
 * usage: capi_test WORK_DIR (an empty directory the test may fill) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reducto/reducto.h"

static int failures = 0;
static char work[2048];

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", __FILE__, __LINE__, \
              #cond, reducto_last_error_message());                             \
      ++failures;                                                                \
    }                                                                            \
  } while (0)
#define CHECK_CODE(expr, code) CHECK((expr) == (code))

/* ---- data ---- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct {
  unsigned char* data;
  size_t size;
} bytes;

/* `size` bytes of text-like data that repeats with variation, so that a later version
 * shares most of it. */
static bytes make_version(size_t size, unsigned edits, uint64_t seed) {
  bytes b = {malloc(size ? size : 1), size};
  rng_state = 88172645463325252ull;
  for (size_t i = 0; i < size; ++i) b.data[i] = (unsigned char)("abcdefghij klmnop\n"[next_random() % 18]);
  rng_state = seed;
  for (unsigned e = 0; e < edits && size > 0; ++e) {
    size_t at = next_random() % size;
    size_t len = 1 + next_random() % 64;
    for (size_t k = at; k < at + len && k < size; ++k) b.data[k] = (unsigned char)next_random();
  }
  return b;
}

static char* path_in_work(const char* name) {
  static char paths[16][4096];
  static int next = 0;
  char* p = paths[next++ % 16];
  snprintf(p, 4096, "%s/%s", work, name);
  return p;
}

static void write_file(const char* path, const bytes* b) {
  FILE* f = fopen(path, "wb");
  if (f == NULL || fwrite(b->data, 1, b->size, f) != b->size || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    exit(2);
  }
}

static bytes read_file(const char* path) {
  bytes b = {NULL, 0};
  FILE* f = fopen(path, "rb");
  if (f == NULL) return b;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b.data = malloc(n > 0 ? (size_t)n : 1);
  b.size = fread(b.data, 1, (size_t)n, f);
  fclose(f);
  return b;
}

/* Appends data[0..n) to *b, growing its allocation geometrically. */
static void append(bytes* b, size_t* capacity, const unsigned char* data, size_t n) {
  if (b->size + n > *capacity) {
    *capacity = (b->size + n) * 2;
    b->data = realloc(b->data, *capacity);
  }
  memcpy(b->data + b->size, data, n);
  b->size += n;
}

static int same(const bytes* a, const bytes* b) {
  return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

static int count_in_file(const char* path, const char* needle) {
  bytes b = read_file(path);
  int count = 0;
  if (b.data != NULL) {
    b.data = realloc(b.data, b.size + 1);
    b.data[b.size] = 0;
    for (const char* p = (const char*)b.data; (p = strstr(p, needle)) != NULL; ++p) ++count;
    free(b.data);
  }
  return count;
}

static int file_contains(const char* path, const char* needle) {
  return count_in_file(path, needle) > 0;
}

/* ---- helpers over the ABI ---- */

static reducto_session* make_session(const char* state_dir, int skip_origin_check) {
  reducto_settings* settings = NULL;
  reducto_session* session = NULL;
  CHECK_CODE(reducto_settings_create(&settings), REDUCTO_OK);
  CHECK_CODE(reducto_settings_set(settings, "state_dir", state_dir), REDUCTO_OK);
  if (skip_origin_check) CHECK_CODE(reducto_settings_set(settings, "skip_origin_check", "true"), REDUCTO_OK);
  CHECK_CODE(reducto_session_create(settings, &session), REDUCTO_OK);
  CHECK_CODE(reducto_settings_free(settings), REDUCTO_OK);
  return session;
}

/* One-shot compression, sized by the BUFFER_TOO_SMALL answer. */
static bytes compress_buffer(reducto_session* s, const reducto_corpus* c, const reducto_params* p,
                             const bytes* in) {
  bytes out = {NULL, 0};
  size_t needed = 0;
  int code = reducto_compress(s, c, p, in->data, in->size, NULL, 0, &needed, NULL);
  CHECK_CODE(code, REDUCTO_E_BUFFER_TOO_SMALL);
  CHECK(needed > 0);
  out.data = malloc(needed);
  CHECK_CODE(reducto_compress(s, c, p, in->data, in->size, out.data, needed, &out.size, NULL), REDUCTO_OK);
  CHECK(out.size == needed);
  return out;
}

static bytes decompress_buffer(reducto_session* s, const reducto_corpus* c, const bytes* in,
                               int* code) {
  bytes out = {NULL, 0};
  size_t needed = 0;
  *code = reducto_decompress(s, c, NULL, in->data, in->size, NULL, 0, &needed, NULL);
  if (*code != REDUCTO_E_BUFFER_TOO_SMALL && *code != REDUCTO_OK) return out;
  out.data = malloc(needed ? needed : 1);
  *code = reducto_decompress(s, c, NULL, in->data, in->size, out.data, needed, &out.size, NULL);
  return out;
}

/* Push/pull compression, `in_step` bytes of input and `out_step` bytes of output room
 * per call. */
static bytes compress_stream(reducto_session* s, const reducto_corpus* c, const bytes* in,
                             size_t in_step, size_t out_step) {
  bytes out = {malloc(1), 0};
  size_t capacity = 1;
  reducto_cstream* stream = NULL;
  CHECK_CODE(reducto_cstream_create(s, c, NULL, &stream), REDUCTO_OK);
  unsigned char* room = malloc(out_step);
  size_t fed = 0;
  for (int done = 0, calls = 0; !done; ++calls) {
    size_t n = in->size - fed < in_step ? in->size - fed : in_step;
    reducto_in_buffer ib = {in->data + fed, n, 0};
    reducto_out_buffer ob = {room, out_step, 0};
    int end = fed + n == in->size;
    int code = reducto_cstream_compress(stream, &ob, &ib, end, &done);
    CHECK_CODE(code, REDUCTO_OK);
    if (code != REDUCTO_OK || calls > 100000000) break;
    fed += ib.pos;
    append(&out, &capacity, room, ob.pos);
  }
  reducto_stats stats;
  CHECK_CODE(reducto_cstream_stats(stream, &stats), REDUCTO_OK);
  CHECK(stats.input_bytes == in->size && stats.output_bytes == out.size);
  CHECK_CODE(reducto_cstream_free(stream), REDUCTO_OK);
  free(room);
  return out;
}

static bytes decompress_stream(reducto_session* s, const reducto_corpus* c, const bytes* in,
                               size_t in_step, size_t out_step, int* result) {
  bytes out = {malloc(1), 0};
  size_t capacity = 1;
  reducto_dstream* stream = NULL;
  CHECK_CODE(reducto_dstream_create(s, c, NULL, &stream), REDUCTO_OK);
  unsigned char* room = malloc(out_step);
  size_t fed = 0;
  *result = REDUCTO_OK;
  for (int done = 0; !done;) {
    size_t n = in->size - fed < in_step ? in->size - fed : in_step;
    reducto_in_buffer ib = {in->data + fed, n, 0};
    reducto_out_buffer ob = {room, out_step, 0};
    *result = reducto_dstream_decompress(stream, &ob, &ib, fed + n == in->size, &done);
    if (*result != REDUCTO_OK) break;
    fed += ib.pos;
    append(&out, &capacity, room, ob.pos);
  }
  CHECK_CODE(reducto_dstream_free(stream), REDUCTO_OK);
  free(room);
  return out;
}

/* ---- callbacks ---- */

typedef struct {
  const bytes* in;
  size_t pos;
  int fail_at_call; /* 0: never */
  int calls;
} reader;

static int64_t read_cb(void* context, void* buffer, size_t capacity) {
  reader* r = context;
  if (++r->calls == r->fail_at_call) return -1;
  size_t n = r->in->size - r->pos < capacity ? r->in->size - r->pos : capacity;
  if (n > 1000) n = 1000; /* Short reads, as a pipe gives them. */
  memcpy(buffer, r->in->data + r->pos, n);
  r->pos += n;
  return (int64_t)n;
}

typedef struct {
  bytes out;
  int fail;
} writer;

static int write_cb(void* context, const void* buffer, size_t size) {
  writer* w = context;
  if (w->fail) return 5;
  w->out.data = realloc(w->out.data, w->out.size + size);
  memcpy(w->out.data + w->out.size, buffer, size);
  w->out.size += size;
  return 0;
}

/* ---- threads sharing one session and corpus ---- */

typedef struct {
  reducto_session* session;
  const reducto_corpus* corpus;
  uint64_t seed;
  int ok;
} job;

static void* round_trip_job(void* arg) {
  job* j = arg;
  bytes target = make_version(300000, 40, j->seed);
  size_t needed = 0;
  j->ok = 0;
  if (reducto_compress(j->session, j->corpus, NULL, target.data, target.size, NULL, 0, &needed,
                       NULL) != REDUCTO_E_BUFFER_TOO_SMALL) return NULL;
  bytes container = {malloc(needed), 0};
  if (reducto_compress(j->session, j->corpus, NULL, target.data, target.size, container.data,
                       needed, &container.size, NULL) != REDUCTO_OK) return NULL;
  bytes back = {malloc(target.size), 0};
  if (reducto_decompress(j->session, j->corpus, NULL, container.data, container.size, back.data,
                         target.size, &back.size, NULL) != REDUCTO_OK) return NULL;
  j->ok = same(&target, &back);
  free(target.data);
  free(container.data);
  free(back.data);
  return NULL;
}

/* ---- the tests ---- */

static void test_version_and_errors(void) {
  CHECK(reducto_version_number() == REDUCTO_VERSION_NUMBER);
  CHECK(strcmp(reducto_version_string(), REDUCTO_VERSION_STRING) == 0);
  /* Pinned values. */
  CHECK(REDUCTO_OK == 0 && REDUCTO_E_INVALID_ARGUMENT == 1 && REDUCTO_E_NOT_FOUND == 2 &&
        REDUCTO_E_CORRUPT == 3 && REDUCTO_E_INTEGRITY == 4 && REDUCTO_E_IO == 5 &&
        REDUCTO_E_UNAVAILABLE == 6 && REDUCTO_E_PERMISSION == 7 &&
        REDUCTO_E_INVALID_HANDLE == 20 && REDUCTO_E_BUFFER_TOO_SMALL == 21 &&
        REDUCTO_E_CALLBACK == 22 && REDUCTO_E_STATE == 23 && REDUCTO_E_NO_MEMORY == 24 &&
        REDUCTO_E_INTERNAL == 25);
  CHECK(strcmp(reducto_error_name(REDUCTO_E_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(reducto_error_name(999), "unknown") == 0);
  for (int code = 1; code <= 25; ++code) {
    if (strcmp(reducto_error_name(code), "unknown") != 0) CHECK(strlen(reducto_error_remedy(code)) > 20);
  }
  CHECK(strcmp(reducto_error_remedy(REDUCTO_OK), "") == 0);
}

static void test_misuse(reducto_session* session) {
  reducto_params* params = NULL;
  CHECK_CODE(reducto_params_create(&params), REDUCTO_OK);
  CHECK_CODE(reducto_params_set(params, "profile", "max"), REDUCTO_OK);
  CHECK_CODE(reducto_params_set(params, "level", "23"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK(strstr(reducto_last_error_message(), "1..22") != NULL);
  CHECK_CODE(reducto_params_set(params, "block_size", "1K"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_params_set(params, "block_size", "8M"), REDUCTO_OK);
  CHECK_CODE(reducto_params_set(params, "no_such_key", "1"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK(strstr(reducto_last_error_message(), "profile") != NULL); /* Lists the keys. */
  CHECK_CODE(reducto_params_set(params, NULL, "1"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_params_set(params, "profile", NULL), REDUCTO_E_INVALID_ARGUMENT);

  /* NULL and freed handles. */
  CHECK_CODE(reducto_settings_free(NULL), REDUCTO_OK);
  CHECK_CODE(reducto_session_free(NULL), REDUCTO_OK);
  CHECK_CODE(reducto_params_free(NULL), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_free(NULL), REDUCTO_OK);
  CHECK_CODE(reducto_cstream_free(NULL), REDUCTO_OK);
  CHECK_CODE(reducto_dstream_free(NULL), REDUCTO_OK);
  size_t size = 0;
  CHECK_CODE(reducto_compress(NULL, NULL, NULL, "x", 1, NULL, 0, &size, NULL), REDUCTO_E_INVALID_HANDLE);
  CHECK(strstr(reducto_last_error_message(), "reducto_session") != NULL);
  CHECK(reducto_corpus_id(NULL) == NULL);
  /* A handle of another kind. */
  CHECK_CODE(reducto_compress((reducto_session*)params, NULL, NULL, "x", 1, NULL, 0, &size, NULL),
             REDUCTO_E_INVALID_HANDLE);
  CHECK_CODE(reducto_session_free((reducto_session*)params), REDUCTO_E_INVALID_HANDLE);
  /* Double free: refused, nothing freed twice. */
  CHECK_CODE(reducto_params_free(params), REDUCTO_OK);
  CHECK_CODE(reducto_params_free(params), REDUCTO_E_INVALID_HANDLE);
  CHECK_CODE(reducto_params_set(params, "profile", "max"), REDUCTO_E_INVALID_HANDLE);
  /* NULL output pointers and buffers. */
  CHECK_CODE(reducto_params_create(NULL), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_compress(session, NULL, NULL, NULL, 5, NULL, 0, &size, NULL), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_compress(session, NULL, NULL, "x", 1, NULL, 0, NULL, NULL), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_compress_callbacks(session, NULL, NULL, NULL, NULL, write_cb, NULL, NULL),
             REDUCTO_E_INVALID_ARGUMENT);
  /* Unknown settings. */
  reducto_settings* settings = NULL;
  CHECK_CODE(reducto_settings_create(&settings), REDUCTO_OK);
  CHECK_CODE(reducto_settings_set(settings, "colour", "blue"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_settings_set(settings, "usage", "maybe"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_settings_set(settings, "trusted_keys", path_in_work("missing.pub")),
             REDUCTO_E_NOT_FOUND);
  /* Repository settings: a token belongs to a repository, sizes parse. */
  CHECK_CODE(reducto_settings_set(settings, "repo_token", "t0ken"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_settings_set(settings, "repository", "https://corpora.example.org"), REDUCTO_OK);
  CHECK_CODE(reducto_settings_set(settings, "repo_token", "t0ken"), REDUCTO_OK);
  CHECK_CODE(reducto_settings_set(settings, "cache_limit", "ten gigabytes"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_settings_set(settings, "cache_limit", "10G"), REDUCTO_OK);
  CHECK_CODE(reducto_settings_set(settings, "repo_colour", "blue"), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_settings_free(settings), REDUCTO_OK);
}

static void test_standalone(reducto_session* session) {
  /* Zero-length input, with a NULL pointer: a container that decodes to nothing. */
  bytes empty = {NULL, 0};
  bytes container = compress_buffer(session, NULL, NULL, &empty);
  int code = 0;
  bytes back = decompress_buffer(session, NULL, &container, &code);
  CHECK_CODE(code, REDUCTO_OK);
  CHECK(back.size == 0);
  free(container.data);
  free(back.data);

  bytes one = make_version(1, 0, 1);
  container = compress_buffer(session, NULL, NULL, &one);
  back = decompress_buffer(session, NULL, &container, &code);
  CHECK_CODE(code, REDUCTO_OK);
  CHECK(same(&one, &back));
  free(container.data);
  free(back.data);
  free(one.data);
}

static void test_with_corpus(reducto_session* session, const char* corpus_dir) {
  reducto_corpus* corpus = NULL;
  CHECK_CODE(reducto_corpus_open(session, corpus_dir, NULL, &corpus), REDUCTO_OK);
  CHECK(reducto_corpus_id(corpus) != NULL && strlen(reducto_corpus_id(corpus)) == 36);
  CHECK(strstr(reducto_corpus_info_json(corpus), reducto_corpus_id(corpus)) != NULL);

  bytes target = make_version(2000000, 200, 2);
  bytes container = compress_buffer(session, corpus, NULL, &target);
  CHECK(container.size * 10 < target.size); /* It found the corpus. */
  reducto_stats stats;
  size_t size = 0;
  unsigned char* exact = malloc(container.size);
  CHECK_CODE(reducto_compress(session, corpus, NULL, target.data, target.size, exact,
                              container.size, &size, &stats), REDUCTO_OK);
  CHECK(size == container.size && memcmp(exact, container.data, size) == 0);
  CHECK(stats.input_bytes == target.size && stats.output_bytes == size);
  CHECK(stats.copy_bytes + stats.literal_bytes + stats.delta_bytes == target.size);
  CHECK(stats.copy_bytes > target.size / 2 && stats.standalone == 0);
  free(exact);

  /* The call's metrics document (docs/monitoring.md): its counts are the call's. */
  char expected[128];
  const char* metrics = reducto_last_metrics_json();
  CHECK(strstr(metrics, "\"command\": \"compress\"") != NULL);
  CHECK(strstr(metrics, "\"status\": \"ok\"") != NULL);
  snprintf(expected, sizeof expected, "\"original_bytes\": %llu", (unsigned long long)target.size);
  CHECK(strstr(metrics, expected) != NULL);
  snprintf(expected, sizeof expected, "\"copy_bytes\": %llu", (unsigned long long)stats.copy_bytes);
  CHECK(strstr(metrics, expected) != NULL);
  CHECK(strstr(metrics, reducto_corpus_id(corpus)) != NULL);

  int code = 0;
  bytes back = decompress_buffer(session, corpus, &container, &code);
  CHECK_CODE(code, REDUCTO_OK);
  CHECK(same(&target, &back));
  free(back.data);
  metrics = reducto_last_metrics_json();
  CHECK(strstr(metrics, "\"command\": \"decompress\"") != NULL);
  snprintf(expected, sizeof expected, "\"container_bytes\": %llu", (unsigned long long)container.size);
  CHECK(strstr(metrics, expected) != NULL);

  /* A failed call's document says how it failed. */
  unsigned char junk[64] = {0};
  size_t junk_size = 0;
  unsigned char out[16];
  CHECK(reducto_decompress(session, corpus, NULL, junk, sizeof junk, out, sizeof out, &junk_size,
                           NULL) != REDUCTO_OK);
  CHECK(strstr(reducto_last_metrics_json(), "\"status\": \"corrupt\"") != NULL);

  /* Any cutting of the input and output gives the same container and the same target. */
  const size_t steps[][2] = {{1, 1 << 20}, {7, 13}, {4096, 1}, {65537, 100000}, {1 << 22, 1 << 22}};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; ++i) {
    size_t in_step = steps[i][0], out_step = steps[i][1];
    if (in_step == 1 && out_step == 1 << 20) {
      bytes head = {target.data, 300000}; /* Byte by byte: a shorter target. */
      bytes one_shot = compress_buffer(session, corpus, NULL, &head);
      bytes streamed = compress_stream(session, corpus, &head, 1, out_step);
      CHECK(same(&one_shot, &streamed));
      free(one_shot.data);
      free(streamed.data);
      continue;
    }
    bytes streamed = compress_stream(session, corpus, &target, in_step, out_step);
    CHECK(same(&container, &streamed));
    free(streamed.data);
    bytes restored = decompress_stream(session, corpus, &container, in_step, out_step, &code);
    CHECK_CODE(code, REDUCTO_OK);
    CHECK(same(&target, &restored));
    free(restored.data);
  }

  /* Input after the end is refused. */
  reducto_cstream* cs = NULL;
  CHECK_CODE(reducto_cstream_create(session, corpus, NULL, &cs), REDUCTO_OK);
  unsigned char room[64];
  reducto_in_buffer ib = {"abc", 3, 0};
  reducto_out_buffer ob = {room, 0, 0};
  int done = 0;
  CHECK_CODE(reducto_cstream_compress(cs, &ob, &ib, 1, &done), REDUCTO_OK);
  reducto_in_buffer more = {"def", 3, 0};
  CHECK_CODE(reducto_cstream_compress(cs, &ob, &more, 1, &done), REDUCTO_E_STATE);
  CHECK_CODE(reducto_cstream_compress(cs, &ob, &ib, 1, NULL), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_cstream_free(cs), REDUCTO_OK); /* Not finished: cancelled. */
  CHECK_CODE(reducto_cstream_free(cs), REDUCTO_E_INVALID_HANDLE);
  /* A stream freed while its operation waits for input. */
  CHECK_CODE(reducto_cstream_create(session, corpus, NULL, &cs), REDUCTO_OK);
  ib.pos = 0;
  ob.size = sizeof room;
  CHECK_CODE(reducto_cstream_compress(cs, &ob, &ib, 0, &done), REDUCTO_OK);
  CHECK_CODE(reducto_cstream_free(cs), REDUCTO_OK);

  /* Callbacks: a round trip with short reads, then each callback failing. */
  reader r = {&target, 0, 0, 0};
  writer w = {{NULL, 0}, 0};
  CHECK_CODE(reducto_compress_callbacks(session, corpus, NULL, read_cb, &r, write_cb, &w, &stats), REDUCTO_OK);
  CHECK(same(&w.out, &container));
  reader r2 = {&w.out, 0, 0, 0};
  writer w2 = {{NULL, 0}, 0};
  CHECK_CODE(reducto_decompress_callbacks(session, corpus, NULL, read_cb, &r2, write_cb, &w2, NULL), REDUCTO_OK);
  CHECK(same(&w2.out, &target));
  reader failing = {&target, 0, 3, 0};
  writer sink = {{NULL, 0}, 0};
  CHECK_CODE(reducto_compress_callbacks(session, corpus, NULL, read_cb, &failing, write_cb, &sink, NULL),
             REDUCTO_E_CALLBACK);
  CHECK(strstr(reducto_last_error_message(), "read callback") != NULL);
  reader fine = {&container, 0, 0, 0};
  writer refusing = {{NULL, 0}, 1};
  CHECK_CODE(reducto_decompress_callbacks(session, corpus, NULL, read_cb, &fine, write_cb, &refusing, NULL),
             REDUCTO_E_CALLBACK);
  CHECK(strstr(reducto_last_error_message(), "write callback") != NULL);
  free(w.out.data);
  free(w2.out.data);
  free(sink.out.data);

  /* Damaged containers: a flipped byte, a truncation, no corpus, another corpus. */
  bytes damaged = {malloc(container.size), container.size};
  memcpy(damaged.data, container.data, container.size);
  damaged.data[container.size / 2] ^= 0x40;
  back = decompress_buffer(session, corpus, &damaged, &code);
  CHECK(code == REDUCTO_E_CORRUPT || code == REDUCTO_E_INTEGRITY);
  free(back.data);
  back = decompress_stream(session, corpus, &damaged, 4096, 4096, &code);
  CHECK(code == REDUCTO_E_CORRUPT || code == REDUCTO_E_INTEGRITY);
  free(back.data);
  damaged.size = container.size - 5;
  memcpy(damaged.data, container.data, damaged.size);
  back = decompress_buffer(session, corpus, &damaged, &code);
  CHECK(code == REDUCTO_E_CORRUPT || code == REDUCTO_E_INTEGRITY);
  free(back.data);
  free(damaged.data);
  back = decompress_buffer(session, NULL, &container, &code);
  CHECK_CODE(code, REDUCTO_E_NOT_FOUND);
  CHECK(strstr(reducto_last_error_message(), reducto_corpus_id(corpus)) != NULL);
  free(back.data);

  /* Files: published complete, never over an existing file unless asked. */
  char* in_path = path_in_work("target.bin");
  char* out_path = path_in_work("target.bin.rdc");
  char* back_path = path_in_work("target.back");
  write_file(in_path, &target);
  CHECK_CODE(reducto_compress_file(session, corpus, NULL, in_path, out_path, &stats), REDUCTO_OK);
  bytes from_file = read_file(out_path);
  CHECK(same(&from_file, &container));
  free(from_file.data);
  CHECK_CODE(reducto_compress_file(session, corpus, NULL, in_path, out_path, NULL), REDUCTO_E_INVALID_ARGUMENT);
  reducto_params* overwrite = NULL;
  CHECK_CODE(reducto_params_create(&overwrite), REDUCTO_OK);
  CHECK_CODE(reducto_params_set(overwrite, "overwrite", "true"), REDUCTO_OK);
  CHECK_CODE(reducto_compress_file(session, corpus, overwrite, in_path, out_path, NULL), REDUCTO_OK);
  CHECK_CODE(reducto_params_free(overwrite), REDUCTO_OK);
  CHECK_CODE(reducto_decompress_file(session, corpus, NULL, out_path, back_path, NULL), REDUCTO_OK);
  bytes restored = read_file(back_path);
  CHECK(same(&restored, &target));
  free(restored.data);
  CHECK_CODE(reducto_decompress_file(session, corpus, NULL, path_in_work("nothing.rdc"),
                                     path_in_work("nothing"), NULL), REDUCTO_E_NOT_FOUND);

  /* Threads sharing the session and the corpus. */
  pthread_t threads[4];
  job jobs[4];
  for (int t = 0; t < 4; ++t) {
    jobs[t] = (job){session, corpus, 100 + (uint64_t)t, 0};
    pthread_create(&threads[t], NULL, round_trip_job, &jobs[t]);
  }
  for (int t = 0; t < 4; ++t) {
    pthread_join(threads[t], NULL);
    CHECK(jobs[t].ok);
  }

  /* The corpus outlives a session freed first; freeing it ends the last use. */
  free(container.data);
  free(target.data);
  CHECK_CODE(reducto_corpus_free(corpus), REDUCTO_OK);
}

/* A container given another corpus than the one it names: NOT_FOUND, naming it. */
static void test_wrong_corpus(reducto_session* session, const char* corpus_dir) {
  char* other_input = path_in_work("other.txt");
  char* other_dir = path_in_work("other-corpus");
  bytes other = make_version(100000, 500, 9);
  write_file(other_input, &other);
  free(other.data);
  const char* inputs[] = {other_input};
  CHECK_CODE(reducto_corpus_build(session, inputs, 1, other_dir, NULL), REDUCTO_OK);
  reducto_corpus* right = NULL;
  reducto_corpus* wrong = NULL;
  CHECK_CODE(reducto_corpus_open(session, corpus_dir, NULL, &right), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_open(session, other_dir, NULL, &wrong), REDUCTO_OK);
  bytes target = make_version(200000, 20, 3);
  bytes container = compress_buffer(session, right, NULL, &target);
  int code = 0;
  bytes back = decompress_buffer(session, wrong, &container, &code);
  CHECK_CODE(code, REDUCTO_E_NOT_FOUND);
  CHECK(strstr(reducto_last_error_message(), reducto_corpus_id(right)) != NULL);
  free(back.data);
  free(container.data);
  free(target.data);
  CHECK_CODE(reducto_corpus_free(right), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_free(wrong), REDUCTO_OK);
}

/* The command line's policies apply: another state directory has not made the corpus
 * (Permission), skip_origin_check opens it, and each operation is audited. */
static void test_policies(const char* corpus_dir, const char* state_dir) {
  char* other_state = path_in_work("other-state");
  reducto_session* stranger = make_session(other_state, 0);
  reducto_corpus* corpus = NULL;
  CHECK_CODE(reducto_corpus_open(stranger, corpus_dir, NULL, &corpus), REDUCTO_E_PERMISSION);
  CHECK(strstr(reducto_last_error_message(), "made here") != NULL);
  CHECK(corpus == NULL);
  CHECK_CODE(reducto_corpus_verify(stranger, corpus_dir), REDUCTO_E_PERMISSION);
  CHECK_CODE(reducto_session_free(stranger), REDUCTO_OK);

  reducto_session* unchecked = make_session(other_state, 1);
  CHECK_CODE(reducto_corpus_open(unchecked, corpus_dir, NULL, &corpus), REDUCTO_OK);
  CHECK_CODE(reducto_session_free(unchecked), REDUCTO_OK); /* The corpus keeps it. */
  CHECK_CODE(reducto_corpus_free(corpus), REDUCTO_OK);

  char audit_log[4200];
  snprintf(audit_log, sizeof audit_log, "%s/audit.log", state_dir);
  /* The build, the second build refused because the corpus exists, and the other. */
  CHECK(count_in_file(audit_log, "\"operation\":\"corpus build\"") == 3);
  CHECK(count_in_file(audit_log, "\"operation\":\"compress\"") > 10);
  CHECK(count_in_file(audit_log, "\"operation\":\"decompress\"") > 10);
  CHECK(count_in_file(audit_log, "\"operation\":\"corpus verify\"") == 1);
  CHECK(file_contains(audit_log, "libreducto"));
  char stranger_log[4200];
  snprintf(stranger_log, sizeof stranger_log, "%s/audit.log", other_state);
  CHECK(file_contains(stranger_log, "\"operation\":\"corpus verify\""));
  CHECK(file_contains(stranger_log, "failed: "));
  /* Usage was recorded beside the corpus, for `corpus prune --unused-since`. */
  char usage[4200];
  snprintf(usage, sizeof usage, "%s.usage", corpus_dir);
  struct stat st;
  CHECK(stat(usage, &st) == 0 && S_ISDIR(st.st_mode));
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi_test WORK_DIR\n");
    return 2;
  }
  snprintf(work, sizeof work, "%s", argv[1]);
  char* state_dir = path_in_work("state");
  char* corpus_dir = path_in_work("corpus");
  char* old_version = path_in_work("old.txt");

  test_version_and_errors();
  reducto_session* session = make_session(state_dir, 0);
  test_misuse(session);
  test_standalone(session);

  bytes old = make_version(2000000, 0, 1);
  write_file(old_version, &old);
  free(old.data);
  const char* inputs[] = {old_version};
  reducto_params* params = NULL;
  CHECK_CODE(reducto_params_create(&params), REDUCTO_OK);
  CHECK_CODE(reducto_params_set(params, "chunking.avg", "4K"), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_build(session, inputs, 1, corpus_dir, params), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_build(session, inputs, 1, corpus_dir, params), REDUCTO_E_INVALID_ARGUMENT);
  CHECK_CODE(reducto_params_free(params), REDUCTO_OK);
  CHECK_CODE(reducto_corpus_verify(session, corpus_dir), REDUCTO_OK);

  test_with_corpus(session, corpus_dir);
  test_wrong_corpus(session, corpus_dir);
  CHECK_CODE(reducto_session_free(session), REDUCTO_OK);
  test_policies(corpus_dir, state_dir);

  if (failures > 0) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
