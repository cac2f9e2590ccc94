#include "capi/operations.h"

#include <cstring>
#include <string>

#include "capi/errors.h"

namespace reducto::capi {
namespace {

CompressOptions CompressOptionsFrom(const reducto_params& params) {
  CompressOptions options;
  options.profile = params.profile;
  options.level = params.values.level;
  options.threads = params.values.threads;
  options.block_size = static_cast<uint32_t>(params.values.block_size);  // At most 64M.
  options.cache_size = params.values.cache_size;
  return options;
}

DecompressOptions DecompressOptionsFrom(const reducto_params& params) {
  DecompressOptions options;
  options.threads = params.values.threads;
  options.cache_size = params.values.cache_size;
  options.max_output = params.values.max_output;
  return options;
}

// The resolver of a decompression given no corpus: a container that needs one says
// which, and how to pass it.
class NoCorpusResolver : public CorpusResolver {
 public:
  Result<CorpusHandle> Resolve(const CorpusReference& reference) override {
    return Status::NotFound("the container was made against corpus " + reference.id +
                            ": open that corpus (reducto_corpus_open; in Python "
                            "reducto.Corpus(path)) and pass it to the decompression, or set "
                            "the session's \"repository\" to fetch it");
  }
};

}  // namespace

int CheckOperation(const char* function, const reducto_session* session,
                   const reducto_corpus* corpus, const reducto_params* params) {
  if (!IsLive(session, HandleKind::kSession)) {
    return InvalidHandle(function, "session", HandleKind::kSession);
  }
  if (corpus != nullptr && !IsLive(corpus, HandleKind::kCorpus)) {
    return InvalidHandle(function, "corpus", HandleKind::kCorpus);
  }
  if (params != nullptr && !IsLive(params, HandleKind::kParams)) {
    return InvalidHandle(function, "params", HandleKind::kParams);
  }
  return REDUCTO_OK;
}

Result<CompressStats> RunCompress(const reducto_session& session, const reducto_corpus* corpus,
                                  const reducto_params& params, ByteSource& in, ByteSink& out,
                                  RunMetrics* metrics) {
  CompressOptions options = CompressOptionsFrom(params);
  options.metrics = metrics;
  if (corpus != nullptr) return session.session->Compress(*corpus->corpus, in, out, options);
  options.standalone = true;
  return session.session->Compress(std::string(), in, out, options);
}

Result<DecompressStats> RunDecompress(const reducto_session& session,
                                      const reducto_corpus* corpus,
                                      const reducto_params& params, ByteSource& in,
                                      ByteSink& out, RunMetrics* metrics) {
  DecompressOptions options = DecompressOptionsFrom(params);
  options.metrics = metrics;
  if (corpus != nullptr) return session.session->Decompress(*corpus->corpus, in, out, options);
  // A session with repositories (or a cache) finds the container's corpus there.
  if (session.session->settings().remote) {
    std::unique_ptr<CorpusResolver> resolver =
        session.session->Resolver({}, options.cache_size, options.corpus_key);
    return session.session->Decompress(*resolver, in, out, options);
  }
  NoCorpusResolver none;
  return session.session->Decompress(none, in, out, options);
}

namespace {
thread_local std::string last_metrics_json;
}  // namespace

void KeepMetrics(const std::string& command, RunMetrics& metrics, const Status& outcome,
                 const std::string& corpus_id) {
  metrics.Stop();
  RunLabels labels;
  labels.command = command;
  labels.exit_code = outcome.ok() ? REDUCTO_OK : static_cast<int>(outcome.code());
  labels.status = StatusLabel(outcome.code());
  labels.extra["corpus_id"] = corpus_id;
  last_metrics_json = MetricsJson(metrics, labels);
}

void FillStats(const CompressStats& from, reducto_stats* to) {
  if (to == nullptr) return;
  std::memset(to, 0, sizeof(*to));
  to->input_bytes = from.input_bytes;
  to->output_bytes = from.output_bytes;
  to->copy_bytes = from.copy_bytes;
  to->literal_bytes = from.literal_bytes;
  to->delta_bytes = from.delta_bytes;
  to->blocks = from.blocks;
  to->standalone = from.standalone ? 1 : 0;
  to->fell_back = from.fell_back ? 1 : 0;
}

void FillStats(const DecompressStats& from, reducto_stats* to) {
  if (to == nullptr) return;
  std::memset(to, 0, sizeof(*to));
  to->input_bytes = from.input_bytes;
  to->output_bytes = from.output_bytes;
  to->blocks = from.blocks;
  to->standalone = from.standalone ? 1 : 0;
}

}  // namespace reducto::capi

extern "C" {

const char* reducto_last_metrics_json(void) {
  return reducto::capi::last_metrics_json.c_str();
}

}  // extern "C"
