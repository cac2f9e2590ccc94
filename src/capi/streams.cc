// Push/pull streams (reducto_cstream, reducto_dstream): the library's compression and
// decompression pull from a ByteSource and push to a ByteSink, so a stream runs one on
// a thread of its own and the caller's calls feed its input and drain its output
// through two bounded queues. The source hands the operation only full reads (or the
// end), so how the caller cuts its input never changes what the operation sees.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "capi/errors.h"
#include "capi/operations.h"

namespace reducto::capi {
namespace {

// The most bytes each queue holds.
constexpr size_t kQueueBytes = 1u << 20;

// A bounded FIFO of bytes in a ring of kQueueBytes: each Push and Pop is at most two
// memcpy calls.
class ByteQueue {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t room() const { return kQueueBytes - size_; }

  // Appends as much of `data` as there is room for; returns how much.
  size_t Push(std::span<const uint8_t> data) {
    size_t n = std::min(data.size(), room());
    size_t tail = (head_ + size_) % kQueueBytes;
    size_t first = std::min(n, kQueueBytes - tail);
    std::memcpy(ring_.data() + tail, data.data(), first);
    std::memcpy(ring_.data(), data.data() + first, n - first);
    size_ += n;
    return n;
  }

  // Moves up to out.size() bytes from the front into `out`; returns how many.
  size_t Pop(std::span<uint8_t> out) {
    size_t n = std::min(out.size(), size_);
    size_t first = std::min(n, kQueueBytes - head_);
    std::memcpy(out.data(), ring_.data() + head_, first);
    std::memcpy(out.data() + first, ring_.data(), n - first);
    head_ = (head_ + n) % kQueueBytes;
    size_ -= n;
    return n;
  }

 private:
  std::vector<uint8_t> ring_ = std::vector<uint8_t>(kQueueBytes);
  size_t head_ = 0;
  size_t size_ = 0;
};

// The state the caller's thread and the operation's thread share.
struct Channel {
  std::mutex mutex;
  std::condition_variable changed;
  ByteQueue input;   // Caller -> operation.
  ByteQueue output;  // Operation -> caller.
  bool input_ended = false;    // The caller gave the last input.
  bool finished = false;       // The operation returned (output may still be queued).
  bool cancelled = false;      // The stream is being freed.
  int code = REDUCTO_OK;       // The operation's result, once finished.
  std::string message;         // Its message when it failed.
  reducto_stats stats{};
};

// Reads what the caller pushed: blocks until `buf` is full or the input ended.
class ChannelSource : public ByteSource {
 public:
  explicit ChannelSource(Channel& channel) : channel_(channel) {}
  Result<size_t> Read(std::span<uint8_t> buf) override {
    std::unique_lock lock(channel_.mutex);
    size_t done = 0;
    while (done < buf.size()) {
      channel_.changed.wait(lock, [&] {
        return channel_.cancelled || channel_.input_ended || !channel_.input.empty();
      });
      if (channel_.cancelled) return Status::Unavailable("the stream was freed before it finished");
      if (channel_.input.empty()) break;  // The input ended.
      done += channel_.input.Pop(buf.subspan(done));
      channel_.changed.notify_all();
    }
    return done;
  }
  const std::string& name() const override { return name_; }

 private:
  Channel& channel_;
  std::string name_ = "the stream's input";
};

// Queues output for the caller: blocks while the queue is full.
class ChannelSink : public ByteSink {
 public:
  explicit ChannelSink(Channel& channel) : channel_(channel) {}
  Status Write(std::span<const uint8_t> data) override {
    std::unique_lock lock(channel_.mutex);
    while (!data.empty()) {
      channel_.changed.wait(lock, [&] {
        return channel_.cancelled || channel_.output.room() > 0;
      });
      if (channel_.cancelled) return Status::Unavailable("the stream was freed before it finished");
      data = data.subspan(channel_.output.Push(data));
      channel_.changed.notify_all();
    }
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }

 private:
  Channel& channel_;
  std::string name_ = "the stream's output";
};

// Moves what fits from `in` to the input queue and from the output queue to `out`;
// true when anything moved. REQUIRES: the channel's mutex is held.
bool Exchange(Channel& channel, reducto_out_buffer* out, reducto_in_buffer* in) {
  bool moved = false;
  if (in->pos < in->size && !channel.input_ended && channel.input.room() > 0) {
    const uint8_t* from = static_cast<const uint8_t*>(in->src) + in->pos;
    in->pos += channel.input.Push(std::span(from, in->size - in->pos));
    moved = true;
  }
  if (out->pos < out->size && !channel.output.empty()) {
    uint8_t* to = static_cast<uint8_t*>(out->dst) + out->pos;
    out->pos += channel.output.Pop(std::span(to, out->size - out->pos));
    moved = true;
  }
  if (moved) channel.changed.notify_all();
  return moved;
}

}  // namespace

// One stream: the channel and the thread that runs the operation over it.
class Stream {
 public:
  using Operation = std::function<int(ByteSource&, ByteSink&, reducto_stats*)>;

  explicit Stream(Operation operation)
      : worker_([this, op = std::move(operation)] { Run(op); }) {}
  ~Stream() {
    {
      std::lock_guard lock(channel_.mutex);
      channel_.cancelled = true;
    }
    channel_.changed.notify_all();
    worker_.join();
  }

  // reducto_cstream_compress / reducto_dstream_decompress.
  int Step(const char* function, reducto_out_buffer* out, reducto_in_buffer* in, int end,
           int* done) {
    if (int code = CheckBuffers(function, out, in, done); code != REDUCTO_OK) return code;
    *done = 0;
    std::unique_lock lock(channel_.mutex);
    if (channel_.input_ended && in->pos < in->size) {
      return Fail(REDUCTO_E_STATE, std::string(function) +
                                       ": input after the call that ended the input (end = 1)");
    }
    for (;;) {
      bool moved = Exchange(channel_, out, in);
      if (end != 0 && in->pos == in->size && !channel_.input_ended) {
        channel_.input_ended = true;
        channel_.changed.notify_all();
      }
      if (channel_.finished && (channel_.output.empty() || channel_.code != REDUCTO_OK)) {
        if (channel_.code != REDUCTO_OK) return Fail(channel_.code, channel_.message);
        *done = 1;
        return REDUCTO_OK;
      }
      if (moved || !CanProgress(*out, *in)) return REDUCTO_OK;
      channel_.changed.wait(lock);
    }
  }

  int Stats(reducto_stats* stats) {
    std::lock_guard lock(channel_.mutex);
    *stats = channel_.stats;
    return REDUCTO_OK;
  }

 private:
  static int CheckBuffers(const char* function, const reducto_out_buffer* out,
                          const reducto_in_buffer* in, const int* done) {
    std::string problem;
    if (out == nullptr || in == nullptr || done == nullptr) {
      problem = "`out`, `in` and `done` must not be NULL";
    } else if (in->pos > in->size || out->pos > out->size) {
      problem = "a buffer's pos is beyond its size";
    } else if ((in->src == nullptr && in->size > 0) || (out->dst == nullptr && out->size > 0)) {
      problem = "a buffer is NULL with a size above 0";
    }
    if (problem.empty()) return REDUCTO_OK;
    return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": " + problem);
  }

  // Whether waiting can end in progress: the operation may produce output (there is
  // room for it) and is not waiting for input the caller does not have.
  // REQUIRES: the channel's mutex is held.
  bool CanProgress(const reducto_out_buffer& out, const reducto_in_buffer& in) const {
    if (out.pos == out.size) return false;
    bool starved = channel_.input.empty() && !channel_.input_ended && in.pos == in.size;
    return !starved;
  }

  void Run(const Operation& operation) {
    ChannelSource source(channel_);
    ChannelSink sink(channel_);
    reducto_stats stats{};
    int code = Guard("the stream", [&](const char*) { return operation(source, sink, &stats); });
    std::lock_guard lock(channel_.mutex);
    channel_.finished = true;
    channel_.code = code;
    if (code != REDUCTO_OK) channel_.message = reducto_last_error_message();
    channel_.stats = stats;
    channel_.changed.notify_all();
  }

  Channel channel_;
  std::thread worker_;  // Last: starts once the channel exists.
};

}  // namespace reducto::capi

struct reducto_cstream {
  std::unique_ptr<reducto::capi::Stream> stream;
};
struct reducto_dstream {
  std::unique_ptr<reducto::capi::Stream> stream;
};

using reducto::capi::Fail;
using reducto::capi::Guard;
using reducto::capi::HandleKind;
using reducto::capi::InvalidHandle;
using reducto::capi::IsLive;

namespace reducto::capi {
namespace {

// A stream whose operation holds the session, corpus and params it was made with.
template <typename Handle, typename RunOperation>
int CreateStream(const char* function, reducto_session* session, const reducto_corpus* corpus,
                 const reducto_params* params, Handle** out, HandleKind kind,
                 RunOperation run) {
  if (int code = CheckOperation(function, session, corpus, params)) return code;
  if (out == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": the output pointer is NULL");
  auto kept_session = std::make_shared<reducto_session>(*session);
  std::shared_ptr<reducto_corpus> kept_corpus;
  if (corpus != nullptr) kept_corpus = std::make_shared<reducto_corpus>(*corpus);
  auto kept_params = std::make_shared<reducto_params>(ParamsOrDefault(params));
  auto made = std::make_unique<Handle>();
  made->stream = std::make_unique<Stream>(
      [=](ByteSource& in, ByteSink& sink, reducto_stats* stats) {
        auto result = run(*kept_session, kept_corpus.get(), *kept_params, in, sink);
        if (!result.ok()) return Report(result.status());
        FillStats(*result, stats);
        return static_cast<int>(REDUCTO_OK);
      });
  *out = made.release();
  Register(*out, kind);
  return REDUCTO_OK;
}

template <typename Handle>
int FreeStream(const char* function, Handle* stream, HandleKind kind) {
  if (stream == nullptr) return REDUCTO_OK;
  if (!Unregister(stream, kind)) return InvalidHandle(function, "stream", kind);
  delete stream;  // Cancels and joins the operation's thread.
  return REDUCTO_OK;
}

}  // namespace
}  // namespace reducto::capi

extern "C" {

int reducto_cstream_create(reducto_session* session, const reducto_corpus* corpus,
                           const reducto_params* params, reducto_cstream** stream) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::CreateStream(function, session, corpus, params, stream,
                                       HandleKind::kCStream,
                                       [](auto&&... operands) {
                                         return reducto::capi::RunCompress(operands..., nullptr);
                                       });
  });
}

int reducto_cstream_free(reducto_cstream* stream) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeStream(function, stream, HandleKind::kCStream);
  });
}

int reducto_cstream_compress(reducto_cstream* stream, reducto_out_buffer* out,
                             reducto_in_buffer* in, int end, int* done) {
  return Guard(__func__, [&](const char* function) {
    if (!IsLive(stream, HandleKind::kCStream)) {
      return InvalidHandle(function, "stream", HandleKind::kCStream);
    }
    return stream->stream->Step(function, out, in, end, done);
  });
}

int reducto_cstream_stats(const reducto_cstream* stream, reducto_stats* stats) {
  return Guard(__func__, [&](const char* function) {
    if (!IsLive(stream, HandleKind::kCStream)) {
      return InvalidHandle(function, "stream", HandleKind::kCStream);
    }
    if (stats == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `stats` is NULL");
    return stream->stream->Stats(stats);
  });
}

int reducto_dstream_create(reducto_session* session, const reducto_corpus* corpus,
                           const reducto_params* params, reducto_dstream** stream) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::CreateStream(function, session, corpus, params, stream,
                                       HandleKind::kDStream,
                                       [](auto&&... operands) {
                                         return reducto::capi::RunDecompress(operands...,
                                                                             nullptr);
                                       });
  });
}

int reducto_dstream_free(reducto_dstream* stream) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeStream(function, stream, HandleKind::kDStream);
  });
}

int reducto_dstream_decompress(reducto_dstream* stream, reducto_out_buffer* out,
                               reducto_in_buffer* in, int end, int* done) {
  return Guard(__func__, [&](const char* function) {
    if (!IsLive(stream, HandleKind::kDStream)) {
      return InvalidHandle(function, "stream", HandleKind::kDStream);
    }
    return stream->stream->Step(function, out, in, end, done);
  });
}

int reducto_dstream_stats(const reducto_dstream* stream, reducto_stats* stats) {
  return Guard(__func__, [&](const char* function) {
    if (!IsLive(stream, HandleKind::kDStream)) {
      return InvalidHandle(function, "stream", HandleKind::kDStream);
    }
    if (stats == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `stats` is NULL");
    return stream->stream->Stats(stats);
  });
}

}  // extern "C"
