// Byte streams: every command reads a ByteSource and writes a ByteSink, so files,
// stdin and stdout behave the same.
//
// Thread safety: a source or sink is used by one thread at a time.
#ifndef REDUCTO_IO_H_
#define REDUCTO_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "reducto/status.h"

namespace reducto {

// The identity and attributes of a regular file, as fstat reports them.
struct FileInfo {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint32_t permissions = 0;  // The permission bits (st_mode & 0777).
  int64_t mtime_seconds = 0;
  int64_t mtime_nanoseconds = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to buf.size() bytes; 0 only at the end of the stream.
  virtual Result<size_t> Read(std::span<uint8_t> buf) = 0;
  // A human name for messages ("stdin", or the path).
  virtual const std::string& name() const = 0;
  // The file read when it is a regular file (stdin too, when redirected from one);
  // nullopt for a pipe, a terminal, a device or memory.
  virtual std::optional<FileInfo> file_info() const { return std::nullopt; }

  // Reads until `buf` is full or the stream ends; returns the count read.
  Result<size_t> ReadFull(std::span<uint8_t> buf);
};

class ByteSink {
 public:
  // A sink destroyed without Commit() discards what it can (a temporary file is
  // removed); a stream that was already written to cannot be taken back.
  virtual ~ByteSink() = default;
  virtual Status Write(std::span<const uint8_t> data) = 0;
  // Makes the output final: flushes, syncs and, for a file, publishes the temporary
  // file under its name. After Commit() no more writes are allowed.
  virtual Status Commit() = 0;
  virtual const std::string& name() const = 0;
};

// "-" means standard input. NotFound / Permission / InvalidArgument (a directory)
// with the path in the message.
Result<std::unique_ptr<ByteSource>> OpenSource(const std::string& path);
struct SinkOptions {
  // Replace an existing regular file at the path (never anything else).
  bool overwrite = false;
  // The regular file the output is made from: the sink never writes over it (same
  // device and inode), even with `overwrite`.
  std::optional<FileInfo> input;
  // Give the output file `input`'s permission bits and modification time, as zstd does.
  // REQUIRES: `input` is set.
  bool keep_input_attributes = false;
};

// "-" means standard output, and a character device (/dev/null) is written directly.
// A file is written to an unnamed temporary file in its directory (O_TMPFILE; a hidden
// `.NAME.reducto-XXXXXX` beside it where the file system lacks that) and published
// under `path` by Commit(), so a killed process leaves nothing behind. Without
// `overwrite`, `path` must not exist when the sink is opened (InvalidArgument) nor when
// it is committed: a file that appeared meanwhile is left as it is and Commit() fails
// with Unavailable. With `overwrite`, Commit() replaces it atomically. A path that
// exists and is not a regular file, or that is `options.input`, is refused
// (InvalidArgument).
Result<std::unique_ptr<ByteSink>> OpenSink(const std::string& path, const SinkOptions& options);
// The same with only `overwrite` set.
Result<std::unique_ptr<ByteSink>> OpenSink(const std::string& path, bool overwrite);

// True when reading `path` would read this process's standard input: "-", or a path to
// the same open file as descriptor 0 (/dev/stdin, /proc/self/fd/0, the pipe or file it
// was redirected from). A command must let only one of its inputs read it.
bool NamesStandardInput(const std::string& path);

// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGPIPE (the reader of an output
// pipe went away) that remove the temporary files of every file sink not yet
// committed and the staging directory of a corpus not yet published, say on stderr
// why the command stopped, and exit with 128 + the signal number (130 for Ctrl-C, 141
// for a closed pipe, as a shell reports a process killed by them), so an interrupted
// command never leaves a partial output behind.
void InstallInterruptCleanup();

// Sources and sinks in memory, for the library's users and tests.
std::unique_ptr<ByteSource> MemorySource(std::span<const uint8_t> data, std::string name = "memory");
// Appends to *out, which must outlive the sink.
std::unique_ptr<ByteSink> MemorySink(std::string* out, std::string name = "memory");

}  // namespace reducto

#endif  // REDUCTO_IO_H_
