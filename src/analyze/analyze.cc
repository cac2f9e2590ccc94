#include "reducto/analyze.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyze/sample_windows.h"
#include "corpus/corpus_handle_access.h"
#include "reducto/io.h"
#include "util/file.h"

namespace reducto {
namespace {

// Pieces of a segment without a piece table (docs/repositories.md, "Packed pieces").
constexpr uint32_t kDefaultPieceSize = 64u << 10;
// The level `corpus publish` packs pieces at unless told otherwise.
constexpr int kPublishLevel = 9;
// The packed-piece index: its header, then count + 1 offsets of 8 bytes.
constexpr uint64_t kPackedIndexHeaderBytes = 64;
// A piece table without a file entry in the manifest: a header, then 32 bytes a piece.
constexpr uint64_t kPieceTableHeaderBytes = 64;

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

uint32_t PieceSizeOf(const CorpusSegment& segment) {
  return segment.pieces ? segment.pieces->piece_size : kDefaultPieceSize;
}

uint64_t PieceCountOf(const CorpusSegment& segment) {
  const uint64_t piece = PieceSizeOf(segment);
  return (segment.size + piece - 1) / piece;
}

// A sink that keeps nothing: the dry run only needs the container's size.
class CountingSink : public ByteSink {
 public:
  Status Write(std::span<const uint8_t> data) override {
    bytes_ += data.size();
    return Status::Ok();
  }
  Status Commit() override { return Status::Ok(); }
  const std::string& name() const override { return name_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::string name_ = "analysis (nothing written)";
  uint64_t bytes_ = 0;
};

// [offset, offset + length) of an open file, read with pread so that windows need no
// seek and no buffer of their own size.
class FileWindowSource : public ByteSource {
 public:
  FileWindowSource(int fd, const std::string& path, SampleWindow window)
      : fd_(fd), name_(path), next_(window.offset), end_(window.offset + window.length) {}

  Result<size_t> Read(std::span<uint8_t> buf) override {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end_ - next_));
    if (want == 0) return size_t{0};
    ssize_t got;
    do {
      got = ::pread(fd_, buf.data(), want, static_cast<off_t>(next_));
    } while (got < 0 && errno == EINTR);
    if (got < 0) return ErrnoStatus("read", name_, errno);
    if (got == 0) {
      return Status::Io(name_ + " became shorter while it was analysed: analyse a file that "
                                "is not being written");
    }
    next_ += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  uint64_t next_;
  uint64_t end_;
};

// The distinct pack pieces that the corpus ranges of the sample's containers fall in.
class PieceTally : public CorpusUseObserver {
 public:
  explicit PieceTally(const CorpusInfo& info) : segments_(info.segments) {}

  void OnUse(uint64_t address, uint64_t length) override {
    uint64_t end = address + length;
    while (address < end) {
      const size_t s = SegmentOf(address);
      if (s == segments_.size()) return;  // Outside the pack: the encoder never names it.
      const CorpusSegment& segment = segments_[s];
      const uint64_t piece_size = PieceSizeOf(segment);
      const uint64_t piece = (address - segment.base) / piece_size;
      pieces_.insert({s, piece});
      address = segment.base + (piece + 1) * piece_size;
    }
  }

  const std::set<std::pair<size_t, uint64_t>>& pieces() const { return pieces_; }

 private:
  size_t SegmentOf(uint64_t address) const {
    auto after = std::upper_bound(segments_.begin(), segments_.end(), address,
                                  [](uint64_t a, const CorpusSegment& s) { return a < s.base; });
    if (after == segments_.begin()) return segments_.size();
    const size_t s = static_cast<size_t>(after - segments_.begin()) - 1;
    return address < segments_[s].base + segments_[s].size ? s : segments_.size();
  }

  const std::vector<CorpusSegment>& segments_;
  std::set<std::pair<size_t, uint64_t>> pieces_;
};

// The options of one window's run: the caller's, with the analysis's observer.
CompressOptions WindowOptions(const AnalyzeOptions& options, CorpusUseObserver* observer) {
  CompressOptions compress = options.compress;
  compress.standalone = false;
  compress.fallback_to_standalone = false;
  compress.use_observer = observer;
  compress.progress = nullptr;
  return compress;
}

// The sample's exact figures, summed over its windows.
struct SampleTotals {
  uint64_t input = 0, container = 0, copy = 0, delta = 0, literal = 0, windows = 0, blocks = 0;
  double seconds = 0;
};

// Compresses each window of the file open at `fd` into a counting sink, one Compress
// call per window.
//
// Not one call over all the windows one after the other, though that would pay the
// encoder's set-up once: the encoder adapts to its target as it goes (after a trial of
// 4,096 fine-index look-ups that found too little it pauses them for the next 16 MiB of
// target, doubling after each poor trial; the gap before the next anchor grows across a
// window's end), and in a stream of windows that adaptation reaches ~20 times as far
// into the input as in the real run. Measured: one call over all windows predicts the
// kernel pair 41% low and ci-build 52% low, calls over 4 windows each 34% and 45% low.
// Nor windows on several threads at once: on the 2 shared cores measured, no faster.
Status CompressWindows(const Corpus& corpus, int fd, const std::string& path,
                       const std::vector<SampleWindow>& windows, const CompressOptions& options,
                       SampleTotals* totals) {
  for (const SampleWindow& window : windows) {
    FileWindowSource source(fd, path, window);
    CountingSink sink;
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(CompressStats stats, Compress(corpus, source, sink, options));
    totals->seconds += Seconds(start);
    totals->input += stats.input_bytes;
    totals->container += stats.output_bytes;
    totals->copy += stats.copy_bytes;
    totals->delta += stats.delta_bytes;
    totals->literal += stats.literal_bytes;
    totals->blocks += stats.blocks;
    ++totals->windows;
  }
  return Status::Ok();
}

// The container bytes that do not grow with the input: a container's header and
// trailer, and each block's framing. A sample of many windows pays them once per window
// (and per block of each), the real run once (and per block of the whole input); only
// the rest, the instructions and literals, is scaled.
struct ContainerOverhead {
  uint64_t fixed = 0;      // A container of no block.
  uint64_t per_block = 0;  // What one more block adds besides its payload.
  // The wall time of a run on one byte: the encoder's set-up (threads, the corpus's
  // kind, zeroed buffers), which every window pays and the real run once.
  double setup_seconds = 0;
};

Result<uint64_t> ContainerBytesOf(const Corpus& corpus, std::span<const uint8_t> input,
                                  const CompressOptions& options) {
  auto source = MemorySource(input, "overhead probe");
  CountingSink sink;
  CompressOptions quiet = options;
  quiet.use_observer = nullptr;
  ASSIGN_OR_RETURN(CompressStats stats, Compress(corpus, *source, sink, quiet));
  return stats.output_bytes;
}

// Measured on an empty input and on one byte (a block of one literal byte, which is
// counted as payload).
Result<ContainerOverhead> MeasureOverhead(const Corpus& corpus, const CompressOptions& options) {
  static constexpr uint8_t kOneByte[1] = {0};
  ContainerOverhead overhead;
  ASSIGN_OR_RETURN(overhead.fixed, ContainerBytesOf(corpus, {}, options));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(uint64_t one, ContainerBytesOf(corpus, kOneByte, options));
  overhead.setup_seconds = Seconds(start);
  overhead.per_block = one > overhead.fixed + 1 ? one - overhead.fixed - 1 : 0;
  return overhead;
}

// The compressed size of `pieces` over their size, measured on up to kFetchSamplePieces
// of them spread over the set, at the publisher's level. 1 for an encrypted corpus, whose
// stored pieces are ciphertext.
Result<double> PackedPieceRatio(const Corpus& corpus,
                                const std::set<std::pair<size_t, uint64_t>>& pieces) {
  const CorpusInfo& info = corpus.info();
  if (pieces.empty() || info.is_encrypted()) return 1.0;
  const uint64_t step = std::max<uint64_t>(1, pieces.size() / kFetchSamplePieces);
  uint64_t raw = 0, packed = 0, index = 0;
  std::vector<uint8_t> scratch, frame;
  for (const auto& [s, piece] : pieces) {
    if (index++ % step != 0) continue;
    const CorpusSegment& segment = info.segments[s];
    const uint64_t offset = piece * PieceSizeOf(segment);
    const uint64_t length = std::min<uint64_t>(PieceSizeOf(segment), segment.size - offset);
    ASSIGN_OR_RETURN(std::span<const uint8_t> bytes,
                     ReaderOf(corpus).Read(segment.base + offset, length, &scratch));
    frame.resize(ZSTD_compressBound(bytes.size()));
    const size_t n = ZSTD_compress(frame.data(), frame.size(), bytes.data(), bytes.size(),
                                   kPublishLevel);
    if (ZSTD_isError(n)) return Status::Io(std::string("zstd: ") + ZSTD_getErrorName(n));
    raw += bytes.size();
    packed += n;
  }
  return raw == 0 ? 1.0 : static_cast<double>(packed) / static_cast<double>(raw);
}

// manifest.json, and each segment's piece table and packed-piece index.
uint64_t FetchMetadataBytes(const CorpusInfo& info) {
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(info.path + "/manifest.json", ec);
  if (ec) bytes = 0;
  for (const CorpusSegment& segment : info.segments) {
    const uint64_t count = PieceCountOf(segment);
    bytes += segment.pieces ? segment.pieces->size : kPieceTableHeaderBytes + 32 * count;
    bytes += kPackedIndexHeaderBytes + 8 * (count + 1);
  }
  return bytes;
}

uint64_t Scale(uint64_t sample_value, double scale) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(sample_value) * scale));
}

// The whole input's figures from the sample's.
void Extrapolate(const SampleTotals& sample, const ContainerOverhead& overhead, uint32_t block_size,
                 AnalyzeReport* report) {
  const double scale = static_cast<double>(report->input_bytes) / static_cast<double>(sample.input);
  const uint64_t sample_overhead = sample.windows * overhead.fixed + sample.blocks * overhead.per_block;
  const uint64_t payload = sample.container - std::min(sample.container, sample_overhead);
  const uint64_t blocks = (report->input_bytes + block_size - 1) / block_size;
  report->container_bytes = overhead.fixed + blocks * overhead.per_block + Scale(payload, scale);
  report->copy_bytes = std::min(report->input_bytes, Scale(sample.copy, scale));
  report->delta_bytes =
      std::min(report->input_bytes - report->copy_bytes, Scale(sample.delta, scale));
  report->literal_bytes = report->input_bytes - report->copy_bytes - report->delta_bytes;
}

// The time a real run takes: the windows cannot say it, since each pays again what a
// real run pays once and then amortizes (its fine-index trial, zeroed tables: measured
// 4-12 times the real time when the windows' time was scaled). A contiguous stretch
// from the middle of the input, long enough for that to amortize as it does in the
// real run, gives the encoder's time per byte; the real run is its set-up plus that
// per byte.
constexpr uint64_t kMinTimingStretch = 24u << 20;
constexpr uint64_t kMaxTimingStretch = 64u << 20;

Result<double> MeasureSecondsPerByte(const Corpus& corpus, int fd, const std::string& path,
                                     uint64_t size, const CompressOptions& options,
                                     double setup_seconds) {
  const uint64_t length = std::min(
      size, std::clamp<uint64_t>(size / 50, kMinTimingStretch, kMaxTimingStretch));
  FileWindowSource source(fd, path, SampleWindow{(size - length) / 2, length});
  CountingSink sink;
  CompressOptions timed = options;
  timed.use_observer = nullptr;  // Not part of the sample: its pieces are not counted.
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(Compress(corpus, source, sink, timed).status());
  const double seconds = Seconds(start);
  return std::max(0.0, seconds - setup_seconds) / static_cast<double>(length);
}

// The fetch figures from the pieces the sample read.
Status EstimateFetch(const Corpus& corpus, const PieceTally& tally, double scale,
                     AnalyzeReport* report) {
  const CorpusInfo& info = corpus.info();
  uint64_t piece_bytes = 0;
  for (const CorpusSegment& segment : info.segments) {
    report->corpus_pieces += PieceCountOf(segment);
    piece_bytes += segment.size;
  }
  report->corpus_bytes = piece_bytes;
  if (!info.segments.empty()) report->piece_size = PieceSizeOf(info.segments.front());
  report->sample_pieces = tally.pieces().size();
  report->fetch_pieces = std::min(report->corpus_pieces, Scale(report->sample_pieces, scale));
  // The average piece, so that a short last piece of a segment is not counted whole.
  const double bytes_per_piece =
      report->corpus_pieces == 0 ? 0 : static_cast<double>(piece_bytes) / report->corpus_pieces;
  report->fetch_piece_bytes = Scale(report->fetch_pieces, bytes_per_piece);
  ASSIGN_OR_RETURN(double packed_ratio, PackedPieceRatio(corpus, tally.pieces()));
  report->fetch_packed_bytes = Scale(report->fetch_piece_bytes, packed_ratio);
  report->fetch_metadata_bytes = FetchMetadataBytes(info);
  return Status::Ok();
}

// Closes a descriptor when the scope ends, whichever way it ends.
class ClosedOnReturn {
 public:
  explicit ClosedOnReturn(int fd) : fd_(fd) {}
  ~ClosedOnReturn() { ::close(fd_); }
  ClosedOnReturn(const ClosedOnReturn&) = delete;
  ClosedOnReturn& operator=(const ClosedOnReturn&) = delete;

 private:
  int fd_;
};

// Opens `path` for the windows: a regular file that is not empty.
Result<int> OpenInput(const std::string& path, uint64_t* size) {
  if (path == "-") {
    return Status::InvalidArgument(
        "analyze reads windows spread over its input and must not consume a stream: save "
        "stdin to a file and analyse that");
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    const bool empty = S_ISREG(st.st_mode) && st.st_size == 0;
    ::close(fd);
    return Status::InvalidArgument(
        path + (empty ? " is empty: there is nothing to predict"
                      : " is not a regular file: analyze reads windows of a file (save a "
                        "stream to a file first)"));
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

// The fast profile copies whole chunks only, so a window loses about a chunk at each
// edge: windows of at least kFastWindowChunks average chunks keep that under 2%.
constexpr uint64_t kFastWindowChunks = 128;

AnalyzeOptions ForProfile(AnalyzeOptions options, const ChunkerParams& chunking) {
  if (options.compress.profile == Profile::kFast) {
    options.window_bytes = std::max<uint64_t>(options.window_bytes,
                                              kFastWindowChunks * chunking.avg_size);
  }
  return options;
}

}  // namespace

std::vector<SampleWindow> PlanSampleWindows(uint64_t size, const AnalyzeOptions& options) {
  if (size == 0) return {};
  uint64_t sample = options.sample_bytes;
  if (sample == 0) {
    sample = std::max(options.min_sample_bytes,
                      static_cast<uint64_t>(options.sample_fraction * static_cast<double>(size)));
  }
  if (options.window_bytes == 0 || sample >= size / 2) return {{0, size}};
  const uint64_t window = std::min(options.window_bytes, sample);
  const uint64_t count = (sample + window - 1) / window;
  const uint64_t stride = size / count;  // The last stride takes the remainder too.
  std::vector<SampleWindow> windows;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t begin = i * stride;
    const uint64_t end = i + 1 == count ? size : begin + stride;
    // count * window <= sample + window <= size / 2 + window, so a stride holds a window
    // unless the window is a large share of a small input: then it is clipped.
    const uint64_t length = std::min(window, end - begin);
    windows.push_back({begin + (end - begin - length) / 2, length});
  }
  return windows;
}

double AnalyzeReport::ratio() const {
  return container_bytes == 0 ? 0 : static_cast<double>(input_bytes) / container_bytes;
}
double AnalyzeReport::hit_rate() const {
  return input_bytes == 0 ? 0 : static_cast<double>(copy_bytes) / input_bytes;
}
double AnalyzeReport::coverage() const {
  return input_bytes == 0 ? 0 : static_cast<double>(copy_bytes + delta_bytes) / input_bytes;
}
double AnalyzeReport::literal_share() const {
  return input_bytes == 0 ? 0 : static_cast<double>(literal_bytes) / input_bytes;
}

Result<AnalyzeReport> Analyze(const Corpus& corpus, const std::string& path,
                              const AnalyzeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  AnalyzeReport report;
  report.input = path;
  ASSIGN_OR_RETURN(int fd, OpenInput(path, &report.input_bytes));
  const ClosedOnReturn closes(fd);
  const std::vector<SampleWindow> windows =
      PlanSampleWindows(report.input_bytes, ForProfile(options, corpus.info().chunking));
  PieceTally tally(corpus.info());
  const CompressOptions compress = WindowOptions(options, &tally);
  SampleTotals sample;
  RETURN_IF_ERROR(CompressWindows(corpus, fd, path, windows, compress, &sample));
  ASSIGN_OR_RETURN(ContainerOverhead overhead, MeasureOverhead(corpus, compress));
  double seconds_per_byte = 0;
  if (sample.input < report.input_bytes) {
    ASSIGN_OR_RETURN(seconds_per_byte,
                     MeasureSecondsPerByte(corpus, fd, path, report.input_bytes, compress,
                                           overhead.setup_seconds));
  }
  report.fixed_container_bytes = overhead.fixed;
  report.block_container_bytes = overhead.per_block;
  report.sample_bytes = sample.input;
  report.windows = sample.windows;
  report.whole_input = sample.input == report.input_bytes;
  report.sample_container_bytes = sample.container;
  report.sample_seconds = sample.seconds;
  Extrapolate(sample, overhead, compress.block_size, &report);
  report.compress_seconds =
      report.whole_input
          ? sample.seconds
          : overhead.setup_seconds + seconds_per_byte * static_cast<double>(report.input_bytes);
  const double scale = static_cast<double>(report.input_bytes) / static_cast<double>(sample.input);
  RETURN_IF_ERROR(EstimateFetch(corpus, tally, scale, &report));
  report.seconds = Seconds(start);
  return report;
}

AnalyzeReport SumReports(const std::vector<AnalyzeReport>& reports) {
  AnalyzeReport total;
  total.input = "total";
  total.whole_input = true;
  uint64_t uncapped_piece_bytes = 0;
  for (const AnalyzeReport& r : reports) {
    total.input_bytes += r.input_bytes;
    total.sample_bytes += r.sample_bytes;
    total.windows += r.windows;
    total.whole_input = total.whole_input && r.whole_input;
    total.sample_container_bytes += r.sample_container_bytes;
    total.sample_seconds += r.sample_seconds;
    total.fixed_container_bytes += r.fixed_container_bytes;
    total.block_container_bytes = r.block_container_bytes;
    total.container_bytes += r.container_bytes;
    total.copy_bytes += r.copy_bytes;
    total.delta_bytes += r.delta_bytes;
    total.literal_bytes += r.literal_bytes;
    total.compress_seconds += r.compress_seconds;
    total.piece_size = r.piece_size;
    total.corpus_pieces = r.corpus_pieces;
    total.sample_pieces += r.sample_pieces;
    total.fetch_pieces = std::min(r.corpus_pieces, total.fetch_pieces + r.fetch_pieces);
    total.corpus_bytes = r.corpus_bytes;
    uncapped_piece_bytes += r.fetch_piece_bytes;
    total.fetch_piece_bytes = std::min(r.corpus_bytes, uncapped_piece_bytes);
    total.fetch_packed_bytes += r.fetch_packed_bytes;
    total.fetch_metadata_bytes = r.fetch_metadata_bytes;  // Fetched once for all inputs.
    total.seconds += r.seconds;
  }
  // Packed bytes shrink with the cap on the pieces, at their measured ratio.
  if (uncapped_piece_bytes > total.fetch_piece_bytes) {
    total.fetch_packed_bytes = Scale(total.fetch_packed_bytes,
                                     static_cast<double>(total.fetch_piece_bytes) /
                                         static_cast<double>(uncapped_piece_bytes));
  }
  return total;
}

}  // namespace reducto
