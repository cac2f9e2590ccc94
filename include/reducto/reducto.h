/*
 * reducto.h: Reducto's stable C ABI (docs/api.md, "The C ABI"; docs/versioning.md).
 *
 * The C ABI is the library's interface for C and for every other language (the Python
 * package in python/ is built on it). It is a thin front end over the C++ library's
 * corpus handle and session (reducto/corpus_handle.h, reducto/session.h): the same
 * checks, the same trust rule, the same usage records and audit entries as the command
 * line.
 *
 * Conventions, as in libzstd:
 * - Objects are opaque handles made by reducto_X_create (or reducto_corpus_open) and
 *   released by reducto_X_free. A free accepts NULL. Every handle the library gave out
 *   and has not freed yet is known to it: a handle that is NULL, already freed (a double
 *   free) or of the wrong kind is refused with REDUCTO_E_INVALID_HANDLE, and nothing is
 *   freed. Using a handle after its free is undefined behaviour all the same (its
 *   address may have been given to a new handle).
 * - A handle keeps alive what it was made from: a corpus keeps its session, a stream its
 *   session and corpus. They may be freed in any order.
 * - Every function that can fail returns an int: REDUCTO_OK (0) or one of the error
 *   codes below, whose values never change. After a failure,
 *   reducto_last_error_message() holds what happened on this thread (what, where, and
 *   usually what to do), and reducto_error_remedy(code) the general remedy of the code.
 * - Buffers are (pointer, length); a length of 0 is allowed with any pointer, NULL too.
 *   The library never keeps a pointer to a caller's buffer after a call returns.
 * - Strings are NUL-terminated UTF-8 (paths: bytes, as the OS takes them). A string the
 *   library returns belongs to the handle it came from and lives as long as it does.
 *
 * Thread safety: sessions and corpora may be used from many threads at once; settings,
 * parameters and streams by one thread at a time. reducto_last_error_message() is per
 * thread.
 */
#ifndef REDUCTO_REDUCTO_H_
#define REDUCTO_REDUCTO_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define REDUCTO_API __attribute__((visibility("default")))
#else
#define REDUCTO_API
#endif

/* ---- version ---- */

#define REDUCTO_VERSION_MAJOR 0
#define REDUCTO_VERSION_MINOR 1
#define REDUCTO_VERSION_PATCH 0
#define REDUCTO_VERSION_NUMBER \
  (REDUCTO_VERSION_MAJOR * 10000 + REDUCTO_VERSION_MINOR * 100 + REDUCTO_VERSION_PATCH)
#define REDUCTO_VERSION_STRING "0.1.0"

/* The version of the library loaded at run time (REDUCTO_VERSION_NUMBER's form), which
 * may be newer than the header a program was compiled with. */
REDUCTO_API unsigned reducto_version_number(void);
/* "0.1.0". */
REDUCTO_API const char* reducto_version_string(void);

/* ---- errors ---- */

/* Pinned values: a code keeps its number in every later version. 1..7 are the C++
 * library's StatusCode values (reducto/status.h). */
enum {
  REDUCTO_OK = 0,
  REDUCTO_E_INVALID_ARGUMENT = 1, /* Something passed is malformed or out of range. */
  REDUCTO_E_NOT_FOUND = 2,        /* A file, corpus or key does not exist. */
  REDUCTO_E_CORRUPT = 3,          /* Bytes do not parse as the format they claim to be. */
  REDUCTO_E_INTEGRITY = 4,        /* Bytes parse but a digest or bound disagrees. */
  REDUCTO_E_IO = 5,               /* The operating system refused a read, write or rename. */
  REDUCTO_E_UNAVAILABLE = 6,      /* Exists but cannot be used now (a lock, a busy name). */
  REDUCTO_E_PERMISSION = 7,       /* Access denied, or the trust rule refused a corpus. */
  REDUCTO_E_INVALID_HANDLE = 20,  /* NULL, already freed, or a handle of another kind. */
  REDUCTO_E_BUFFER_TOO_SMALL = 21,/* The output does not fit; the size needed is returned. */
  REDUCTO_E_CALLBACK = 22,        /* A read or write callback reported a failure. */
  REDUCTO_E_STATE = 23,           /* A call out of order (e.g. input after the end). */
  REDUCTO_E_NO_MEMORY = 24,       /* An allocation failed. */
  REDUCTO_E_INTERNAL = 25         /* A bug in Reducto: please report it. */
};

/* "ok", "invalid_argument", ..., "internal"; "unknown" for any other value. */
REDUCTO_API const char* reducto_error_name(int code);
/* What to do about an error of this code, one sentence; "" for REDUCTO_OK. */
REDUCTO_API const char* reducto_error_remedy(int code);
/* The message of the last call that failed on this thread ("" if none did). It stays
 * until the next failure on this thread. */
REDUCTO_API const char* reducto_last_error_message(void);

/* ---- settings and sessions: the policies (reducto/session.h) ---- */

typedef struct reducto_settings reducto_settings;
typedef struct reducto_session reducto_session;

REDUCTO_API int reducto_settings_create(reducto_settings** settings);
REDUCTO_API int reducto_settings_free(reducto_settings* settings);
/* Sets one setting by its configuration key, with the command line's meaning:
 *   "state_dir"          directory of the made-here record, usage warnings and audit
 *                        anchor ("" for none); default $XDG_STATE_HOME/reducto
 *   "audit_log"          the audit log's path, or "off"; default <state_dir>/audit.log
 *   "audit_sign_key"     secret key file that signs the audit log's head, or "off"
 *   "trusted_keys"       a public key file (NAME.pub); each call adds one, "" clears
 *   "skip_origin_check"  "true": use corpora without checking where they come from
 *   "usage"              "false": do not record which corpus bytes compressions use
 *   "repository"         a repository URL (https://, http://, file://) that corpora not
 *                        found locally are fetched from (docs/repositories.md); each call
 *                        adds one, in priority order, "" clears
 *   "repo_token"         bearer token for the repository added last (and those after it)
 *   "repo_ca_file"       extra CA certificates (PEM) for the repository added last
 *   "cache_dir"          the cache of fetched corpus pieces; default
 *                        $XDG_CACHE_HOME/reducto
 *   "cache_limit"        its size limit, e.g. "10G" (the default); "0": none
 * REDUCTO_E_INVALID_ARGUMENT for an unknown key or a bad value; a key file that cannot
 * be read fails here, with the error of reading it. */
REDUCTO_API int reducto_settings_set(reducto_settings* settings, const char* key,
                                     const char* value);

/* A session with `settings` (NULL: every default, as the command line without flags or
 * configuration). The settings are copied: free them whenever. */
REDUCTO_API int reducto_session_create(const reducto_settings* settings,
                                       reducto_session** session);
REDUCTO_API int reducto_session_free(reducto_session* session);

/* ---- parameters of one operation ---- */

typedef struct reducto_params reducto_params;

REDUCTO_API int reducto_params_create(reducto_params** params);
REDUCTO_API int reducto_params_free(reducto_params* params);
/* Sets one parameter by its configuration key (docs/cli.md, "Configuration"):
 *   "profile"      "fast", "default" or "max"
 *   "level"        zstd level 1..22 (default: the profile's)
 *   "threads"      0..256 (0: one per core; the container is the same for any count)
 *   "block_size"   container block size, 64K..64M ("4M", "65536")
 *   "cache_size"   memory for the corpus cache ("128M")
 *   "max_output"   the most bytes decompression may produce ("0": no limit)
 *   "overwrite"    "true": file outputs and corpus builds may replace what exists
 *   "chunking.avg", "chunking.min", "chunking.max", "chunking.normalization"
 *                  the chunking of a corpus build
 * Sizes take K, M, G suffixes (powers of 1024). The values are checked by the same table
 * as the command line's configuration file, with the same messages. REDUCTO_E_INVALID_ARGUMENT for an
 * unknown key or a value out of range, saying what is expected. */
REDUCTO_API int reducto_params_set(reducto_params* params, const char* key, const char* value);

/* ---- corpora ---- */

typedef struct reducto_corpus reducto_corpus;

/* Opens the corpus at `path` under the session's trust rule (Corpus::Open): the handle
 * serves any number of compressions and decompressions, from any threads. `params` may
 * be NULL (its cache_size is used). */
REDUCTO_API int reducto_corpus_open(reducto_session* session, const char* path,
                                    const reducto_params* params, reducto_corpus** corpus);
REDUCTO_API int reducto_corpus_free(reducto_corpus* corpus);
/* The corpus's id (a UUID); NULL for an invalid handle. */
REDUCTO_API const char* reducto_corpus_id(const reducto_corpus* corpus);
/* `reducto corpus info --json` of the corpus; NULL for an invalid handle. */
REDUCTO_API const char* reducto_corpus_info_json(const reducto_corpus* corpus);
/* Builds a corpus at `out_dir` from `inputs` (files, directories, "-" for stdin), as
 * `reducto corpus build` does (published atomically, recorded as made here, audited).
 * `params` may be NULL: chunking.* and overwrite are read. */
REDUCTO_API int reducto_corpus_build(reducto_session* session, const char* const* inputs,
                                     size_t input_count, const char* out_dir,
                                     const reducto_params* params);
/* Reads the whole corpus at `path` and checks every digest (`reducto corpus verify`),
 * then the session's trust rule: REDUCTO_E_PERMISSION for a corpus whose bytes are right
 * but that this session would not use. */
REDUCTO_API int reducto_corpus_verify(reducto_session* session, const char* path);

/* ---- what an operation did ---- */

typedef struct reducto_stats {
  uint64_t input_bytes;   /* Bytes read: the target, or the container. */
  uint64_t output_bytes;  /* Bytes written: the container, or the target. */
  uint64_t copy_bytes;    /* Compression: target bytes sent as copies from the corpus. */
  uint64_t literal_bytes; /* Compression: target bytes sent as literals. */
  uint64_t delta_bytes;   /* Compression: target bytes sent as deltas. */
  uint64_t blocks;        /* Container blocks. */
  int standalone;         /* 1: the container needs no corpus. */
  int fell_back;          /* 1: the corpus was missing; a standalone container was written. */
  uint64_t reserved[8];   /* Zero; room for later fields without an ABI change. */
} reducto_stats;

/* ---- one call, buffers in memory ---- */

/* Compresses src[0..src_size) against `corpus` (NULL: a standalone container) into
 * dst[0..dst_capacity) and sets *dst_size to the container's size. When it does not
 * fit: REDUCTO_E_BUFFER_TOO_SMALL, *dst_size = the size needed, nothing written.
 * `params` and `stats` may be NULL. */
REDUCTO_API int reducto_compress(reducto_session* session, const reducto_corpus* corpus,
                                 const reducto_params* params, const void* src,
                                 size_t src_size, void* dst, size_t dst_capacity,
                                 size_t* dst_size, reducto_stats* stats);
/* Decompresses the container src[0..src_size) into dst, as reducto_compress writes.
 * A container that needs a corpus needs `corpus` to be the one it names:
 * REDUCTO_E_NOT_FOUND naming that corpus when `corpus` is NULL or another corpus,
 * REDUCTO_E_INTEGRITY when it has the right id but another manifest (the corpus was
 * replaced or changed). Nothing is returned unless the whole container verified. */
REDUCTO_API int reducto_decompress(reducto_session* session, const reducto_corpus* corpus,
                                   const reducto_params* params, const void* src,
                                   size_t src_size, void* dst, size_t dst_capacity,
                                   size_t* dst_size, reducto_stats* stats);

/* ---- files: written to a temporary name, published when complete ---- */

/* `reducto compress` / `reducto decompress` of one file ("-": stdin / stdout). The
 * output appears under `out_path` only when complete (and, for decompression,
 * verified); it must not exist unless params' overwrite is "true". */
REDUCTO_API int reducto_compress_file(reducto_session* session, const reducto_corpus* corpus,
                                      const reducto_params* params, const char* in_path,
                                      const char* out_path, reducto_stats* stats);
REDUCTO_API int reducto_decompress_file(reducto_session* session,
                                        const reducto_corpus* corpus,
                                        const reducto_params* params, const char* in_path,
                                        const char* out_path, reducto_stats* stats);

/* ---- streaming through callbacks ---- */

/* Reads up to `capacity` bytes into `buffer`: returns the count read, 0 at the end of
 * the stream, or a negative value for an error (the operation fails with
 * REDUCTO_E_CALLBACK). */
typedef int64_t (*reducto_read_fn)(void* context, void* buffer, size_t capacity);
/* Takes all of buffer[0..size): returns 0, or non-zero for an error (the operation fails
 * with REDUCTO_E_CALLBACK). */
typedef int (*reducto_write_fn)(void* context, const void* buffer, size_t size);

/* Compresses what `read` gives into what `write` takes, on the calling thread (and the
 * params' threads). `stats` may be NULL. */
REDUCTO_API int reducto_compress_callbacks(reducto_session* session,
                                           const reducto_corpus* corpus,
                                           const reducto_params* params, reducto_read_fn read,
                                           void* read_context, reducto_write_fn write,
                                           void* write_context, reducto_stats* stats);
/* Decompresses; `write` receives each block only after its digest verified, and the
 * call returns REDUCTO_OK only after the container's trailer verified: until then, treat
 * what was written as unverified. */
REDUCTO_API int reducto_decompress_callbacks(reducto_session* session,
                                             const reducto_corpus* corpus,
                                             const reducto_params* params,
                                             reducto_read_fn read, void* read_context,
                                             reducto_write_fn write, void* write_context,
                                             reducto_stats* stats);

/* ---- what the last operation did ---- */

/* The metrics document (docs/monitoring.md, "The JSON document": counts, phase times,
 * verdict) of the last reducto_compress*, reducto_decompress* call made on this thread
 * (buffers, files, callbacks), successful or not; "" before the first. Valid until the
 * next such call on this thread. Streams are not counted here. */
REDUCTO_API const char* reducto_last_metrics_json(void);

/* ---- streaming by push and pull: caller-owned buffers, as ZSTD_compressStream2 ---- */

typedef struct reducto_in_buffer {
  const void* src; /* Start of the input. */
  size_t size;     /* Its size. */
  size_t pos;      /* Bytes consumed so far; the call advances it. 0 <= pos <= size. */
} reducto_in_buffer;

typedef struct reducto_out_buffer {
  void* dst;   /* Start of the output space. */
  size_t size; /* Its size. */
  size_t pos;  /* Bytes written so far; the call advances it. 0 <= pos <= size. */
} reducto_out_buffer;

typedef struct reducto_cstream reducto_cstream;
typedef struct reducto_dstream reducto_dstream;

/* A compression of one target against `corpus` (NULL: standalone). The stream runs the
 * library's compression on a thread of its own, which the calls below feed and drain;
 * any way of cutting the input into calls gives the same container. */
REDUCTO_API int reducto_cstream_create(reducto_session* session, const reducto_corpus* corpus,
                                       const reducto_params* params, reducto_cstream** stream);
/* Frees the stream; one not finished is cancelled (its output is incomplete). */
REDUCTO_API int reducto_cstream_free(reducto_cstream* stream);
/* Consumes input from `in` (advancing in->pos) and writes container bytes to `out`
 * (advancing out->pos). `end` = 0: more input will follow; `end` = 1: `in` holds the
 * last of it. Blocks until it consumed or produced something, or the container is
 * complete; returns at once, having done nothing, when nothing can be done without more
 * input (end = 0 and `in` empty) or without room in `out`. Sets *done to 1 (0
 * otherwise) once the whole container has been written to `out`s; until then, call
 * again with end = 1, draining `out`. An error of the compression ends the stream
 * (every later call returns it again); a misuse (REDUCTO_E_INVALID_ARGUMENT,
 * REDUCTO_E_STATE) is refused without changing it. */
REDUCTO_API int reducto_cstream_compress(reducto_cstream* stream, reducto_out_buffer* out,
                                         reducto_in_buffer* in, int end, int* done);
/* What the compression did; complete once *done was set. */
REDUCTO_API int reducto_cstream_stats(const reducto_cstream* stream, reducto_stats* stats);

/* A decompression against `corpus` (NULL: a standalone container only). As
 * reducto_decompress_callbacks: the output is verified block by block, and the whole
 * only once *done is set with REDUCTO_OK. */
REDUCTO_API int reducto_dstream_create(reducto_session* session, const reducto_corpus* corpus,
                                       const reducto_params* params, reducto_dstream** stream);
REDUCTO_API int reducto_dstream_free(reducto_dstream* stream);
/* As reducto_cstream_compress, container bytes in, target bytes out. */
REDUCTO_API int reducto_dstream_decompress(reducto_dstream* stream, reducto_out_buffer* out,
                                           reducto_in_buffer* in, int end, int* done);
REDUCTO_API int reducto_dstream_stats(const reducto_dstream* stream, reducto_stats* stats);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* REDUCTO_REDUCTO_H_ */
