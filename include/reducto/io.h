// Byte streams: every command reads a ByteSource and writes a ByteSink, so files,
// stdin and stdout behave the same.
//
// Thread safety: a source or sink is used by one thread at a time.
#ifndef REDUCTO_IO_H_
#define REDUCTO_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "reducto/status.h"

namespace reducto {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to buf.size() bytes; 0 only at the end of the stream.
  virtual Result<size_t> Read(std::span<uint8_t> buf) = 0;
  // A human name for messages ("stdin", or the path).
  virtual const std::string& name() const = 0;

  // Reads until `buf` is full or the stream ends; returns the count read.
  Result<size_t> ReadFull(std::span<uint8_t> buf);
};

class ByteSink {
 public:
  // A sink destroyed without Commit() discards what it can (a temporary file is
  // removed); a stream that was already written to cannot be taken back.
  virtual ~ByteSink() = default;
  virtual Status Write(std::span<const uint8_t> data) = 0;
  // Makes the output final: flushes, syncs and, for a file, renames the temporary
  // file into place. After Commit() no more writes are allowed.
  virtual Status Commit() = 0;
  virtual const std::string& name() const = 0;
};

// "-" means standard input. NotFound / Permission / InvalidArgument (a directory)
// with the path in the message.
Result<std::unique_ptr<ByteSource>> OpenSource(const std::string& path);
// "-" means standard output, and a character device (/dev/null) is written directly. A
// file is written to a temporary name beside `path` and renamed over it on Commit();
// `path` must not exist unless `overwrite`, and is never replaced when it is not a
// regular file.
Result<std::unique_ptr<ByteSink>> OpenSink(const std::string& path, bool overwrite);

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
