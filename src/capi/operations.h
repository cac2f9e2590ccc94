// What every compression and decompression of the C ABI shares: options from the
// parameters, the session's operation on the corpus handle (or standalone), stats.
#ifndef REDUCTO_CAPI_OPERATIONS_H_
#define REDUCTO_CAPI_OPERATIONS_H_

#include "capi/handles.h"
#include "reducto/codec.h"
#include "reducto/io.h"
#include "reducto/reducto.h"

namespace reducto::capi {

// The checks every operation makes first: a live session, and a corpus and params that
// are NULL or live. REDUCTO_OK or the error, reported.
int CheckOperation(const char* function, const reducto_session* session,
                   const reducto_corpus* corpus, const reducto_params* params);

// session.Compress against `corpus`, or a standalone container when it is NULL.
// `metrics` (may be nullptr) counts the run (reducto/metrics.h).
Result<CompressStats> RunCompress(const reducto_session& session, const reducto_corpus* corpus,
                                  const reducto_params& params, ByteSource& in, ByteSink& out,
                                  RunMetrics* metrics);
// session.Decompress against `corpus`; when it is NULL, only a standalone container
// decodes (NotFound naming the corpus a container needs).
Result<DecompressStats> RunDecompress(const reducto_session& session,
                                      const reducto_corpus* corpus,
                                      const reducto_params& params, ByteSource& in,
                                      ByteSink& out, RunMetrics* metrics);
// Keeps the metrics document of a finished `command` ("compress") with `outcome` for
// reducto_last_metrics_json on this thread.
void KeepMetrics(const std::string& command, RunMetrics& metrics, const Status& outcome,
                 const std::string& corpus_id);

void FillStats(const CompressStats& from, reducto_stats* to);
void FillStats(const DecompressStats& from, reducto_stats* to);

}  // namespace reducto::capi

#endif  // REDUCTO_CAPI_OPERATIONS_H_
