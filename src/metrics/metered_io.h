// A ByteSource and a ByteSink that count the bytes through them and time the calls into
// a RunMetrics: the one place an operation's input and output are counted and its waits
// on reads and writes timed (Phase::kRead, Phase::kWrite).
#ifndef REDUCTO_METRICS_METERED_IO_H_
#define REDUCTO_METRICS_METERED_IO_H_

#include <optional>
#include <span>
#include <string>

#include "metrics/phase_timer.h"
#include "reducto/io.h"
#include "reducto/metrics.h"

namespace reducto {

class MeteredSource final : public ByteSource {
 public:
  // Counts every byte read as Counter::kInputBytes and as `also` (what the input is:
  // the original, or the container). REQUIRES: metrics != nullptr.
  MeteredSource(ByteSource& in, RunMetrics* metrics, Counter also)
      : in_(in), metrics_(metrics), also_(also) {}

  Result<size_t> Read(std::span<uint8_t> buf) override {
    PhaseTimer timer(metrics_, Phase::kRead, CpuTime::kMeasured);
    Result<size_t> n = in_.Read(buf);
    if (n.ok()) {
      metrics_->Add(Counter::kInputBytes, *n);
      metrics_->Add(also_, *n);
    }
    return n;
  }
  const std::string& name() const override { return in_.name(); }
  std::optional<FileInfo> file_info() const override { return in_.file_info(); }

 private:
  ByteSource& in_;
  RunMetrics* metrics_;
  Counter also_;
};

class MeteredSink final : public ByteSink {
 public:
  // As MeteredSource, with Counter::kOutputBytes.
  MeteredSink(ByteSink& out, RunMetrics* metrics, Counter also)
      : out_(out), metrics_(metrics), also_(also) {}

  Status Write(std::span<const uint8_t> data) override {
    PhaseTimer timer(metrics_, Phase::kWrite, CpuTime::kMeasured);
    RETURN_IF_ERROR(out_.Write(data));
    metrics_->Add(Counter::kOutputBytes, data.size());
    metrics_->Add(also_, data.size());
    return Status::Ok();
  }
  Status Commit() override { return out_.Commit(); }
  const std::string& name() const override { return out_.name(); }

 private:
  ByteSink& out_;
  RunMetrics* metrics_;
  Counter also_;
};

}  // namespace reducto

#endif  // REDUCTO_METRICS_METERED_IO_H_
