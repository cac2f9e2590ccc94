// The C ABI's compressions and decompressions that finish in one call: buffers in
// memory, files, and read/write callbacks.
#include <cstring>
#include <string>

#include "capi/errors.h"
#include "capi/operations.h"

namespace reducto::capi {
namespace {

// One call's input and output in memory.
template <typename Run>
int BufferCall(const char* function, const void* src, size_t src_size, void* dst,
               size_t dst_capacity, size_t* dst_size, Run&& run) {
  if (src == nullptr && src_size > 0) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `src` is NULL with a size of " + std::to_string(src_size));
  if (dst == nullptr && dst_capacity > 0) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `dst` is NULL with a capacity of " + std::to_string(dst_capacity));
  if (dst_size == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `dst_size` is NULL");
  auto in = MemorySource(std::span(static_cast<const uint8_t*>(src), src ? src_size : 0), "the input buffer");
  std::string output;
  auto out = MemorySink(&output, "the output buffer");
  if (int code = run(*in, *out); code != REDUCTO_OK) return code;
  *dst_size = output.size();
  if (output.size() > dst_capacity) {
    return Fail(REDUCTO_E_BUFFER_TOO_SMALL,
                std::string(function) + ": the output is " + std::to_string(output.size()) +
                    " bytes and `dst` holds " + std::to_string(dst_capacity) +
                    ": call again with at least that much");
  }
  if (!output.empty()) std::memcpy(dst, output.data(), output.size());
  return REDUCTO_OK;
}

// A ByteSource over a caller's read callback; remembers a failure of the callback.
class CallbackSource : public ByteSource {
 public:
  CallbackSource(reducto_read_fn read, void* context) : read_(read), context_(context) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    int64_t n = read_(context_, buf.data(), buf.size());
    if (n < 0 || static_cast<uint64_t>(n) > buf.size()) {
      failed_ = "the read callback returned " + std::to_string(n) +
                (n < 0 ? " (an error)" : " (more than the " + std::to_string(buf.size()) + " bytes asked for)");
      return Status::Io(failed_);
    }
    return static_cast<size_t>(n);
  }
  const std::string& name() const override { return name_; }
  const std::string& failed() const { return failed_; }

 private:
  reducto_read_fn read_;
  void* context_;
  std::string name_ = "the read callback";
  std::string failed_;
};

class CallbackSink : public ByteSink {
 public:
  CallbackSink(reducto_write_fn write, void* context) : write_(write), context_(context) {}
  Status Write(std::span<const uint8_t> data) override {
    if (data.empty()) return Status::Ok();
    if (int code = write_(context_, data.data(), data.size()); code != 0) {
      failed_ = "the write callback returned " + std::to_string(code);
      return Status::Io(failed_);
    }
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }
  const std::string& failed() const { return failed_; }

 private:
  reducto_write_fn write_;
  void* context_;
  std::string name_ = "the write callback";
  std::string failed_;
};

// Runs `run` over the callbacks; a callback's failure is REDUCTO_E_CALLBACK.
template <typename Run>
int CallbackCall(const char* function, reducto_read_fn read, void* read_context,
                 reducto_write_fn write, void* write_context, Run&& run) {
  if (read == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `read` is NULL");
  if (write == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `write` is NULL");
  CallbackSource in(read, read_context);
  CallbackSink out(write, write_context);
  int code = run(in, out);
  const std::string& failed = !in.failed().empty() ? in.failed() : out.failed();
  if (code != REDUCTO_OK && !failed.empty()) {
    return Fail(REDUCTO_E_CALLBACK, std::string(function) + ": " + failed);
  }
  return code;
}

// Opens `in_path` and `out_path` as the command line does, runs `run`, and publishes the
// output only when it returned REDUCTO_OK.
template <typename Run>
int FileCall(const char* function, const reducto_params& params, const char* in_path,
             const char* out_path, Run&& run) {
  if (in_path == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `in_path` is NULL");
  if (out_path == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `out_path` is NULL");
  auto in = OpenSource(in_path);
  if (!in.ok()) return Report(in.status());
  SinkOptions sink_options;
  sink_options.overwrite = params.overwrite;
  sink_options.input = (*in)->file_info();
  auto out = OpenSink(out_path, sink_options);
  if (!out.ok()) return Report(out.status());
  if (int code = run(**in, **out); code != REDUCTO_OK) return code;
  return Report((*out)->Commit());
}

// What one compression or decompression works with: the caller's handles (checked by
// Check) and where its stats go.
struct Operands {
  reducto_session* session;
  const reducto_corpus* corpus;
  const reducto_params* params;
  reducto_stats* stats;

  int Check(const char* function) const {
    return CheckOperation(function, session, corpus, params);
  }
};

// The session's compression of `in` to `out`, with stats on success and its metrics
// kept for reducto_last_metrics_json.
int CompressStream(const Operands& x, ByteSource& in, ByteSink& out) {
  RunMetrics metrics;
  auto result = RunCompress(*x.session, x.corpus, ParamsOrDefault(x.params), in, out, &metrics);
  KeepMetrics("compress", metrics, result.status(), result.ok() ? result->corpus_id : "");
  if (!result.ok()) return Report(result.status());
  FillStats(*result, x.stats);
  return REDUCTO_OK;
}

int DecompressStream(const Operands& x, ByteSource& in, ByteSink& out) {
  RunMetrics metrics;
  auto result =
      RunDecompress(*x.session, x.corpus, ParamsOrDefault(x.params), in, out, &metrics);
  KeepMetrics("decompress", metrics, result.status(), result.ok() ? result->corpus_id : "");
  if (!result.ok()) return Report(result.status());
  FillStats(*result, x.stats);
  return REDUCTO_OK;
}

using Operation = int (*)(const Operands&, ByteSource&, ByteSink&);

// `operation` over `x`, bound for the *Call functions above.
auto Bind(Operation operation, const Operands& x) {
  return [operation, &x](ByteSource& in, ByteSink& out) { return operation(x, in, out); };
}

}  // namespace
}  // namespace reducto::capi

using reducto::capi::Bind;
using reducto::capi::CompressStream;
using reducto::capi::DecompressStream;
using reducto::capi::Guard;
using reducto::capi::Operands;
using reducto::capi::ParamsOrDefault;

extern "C" {

int reducto_compress(reducto_session* session, const reducto_corpus* corpus,
                     const reducto_params* params, const void* src, size_t src_size, void* dst,
                     size_t dst_capacity, size_t* dst_size, reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::BufferCall(function, src, src_size, dst, dst_capacity, dst_size,
                                     Bind(CompressStream, x));
  });
}

int reducto_decompress(reducto_session* session, const reducto_corpus* corpus,
                       const reducto_params* params, const void* src, size_t src_size, void* dst,
                       size_t dst_capacity, size_t* dst_size, reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::BufferCall(function, src, src_size, dst, dst_capacity, dst_size,
                                     Bind(DecompressStream, x));
  });
}

int reducto_compress_file(reducto_session* session, const reducto_corpus* corpus,
                          const reducto_params* params, const char* in_path, const char* out_path,
                          reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::FileCall(function, ParamsOrDefault(params), in_path, out_path,
                                   Bind(CompressStream, x));
  });
}

int reducto_decompress_file(reducto_session* session, const reducto_corpus* corpus,
                            const reducto_params* params, const char* in_path,
                            const char* out_path, reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::FileCall(function, ParamsOrDefault(params), in_path, out_path,
                                   Bind(DecompressStream, x));
  });
}

int reducto_compress_callbacks(reducto_session* session, const reducto_corpus* corpus,
                               const reducto_params* params, reducto_read_fn read,
                               void* read_context, reducto_write_fn write, void* write_context,
                               reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::CallbackCall(function, read, read_context, write, write_context,
                                       Bind(CompressStream, x));
  });
}

int reducto_decompress_callbacks(reducto_session* session, const reducto_corpus* corpus,
                                 const reducto_params* params, reducto_read_fn read,
                                 void* read_context, reducto_write_fn write, void* write_context,
                                 reducto_stats* stats) {
  const Operands x{session, corpus, params, stats};
  return Guard(__func__, [&](const char* function) {
    if (int code = x.Check(function)) return code;
    return reducto::capi::CallbackCall(function, read, read_context, write, write_context,
                                       Bind(DecompressStream, x));
  });
}

}  // extern "C"
