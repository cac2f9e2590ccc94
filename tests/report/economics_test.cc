#include "reducto/report.h"

#include <gtest/gtest.h>

#include <string>

namespace reducto {
namespace {

// A metrics document as --metrics-json writes it (docs/monitoring.md), every key present.
std::string Document(const std::string& command, const std::string& status, uint64_t original,
                     uint64_t container, uint64_t fetch, const std::string& corpus_id = "b3-one") {
  return R"({"reducto_metrics": 1, "command": ")" + command + R"(", "status": ")" + status +
         R"(", "exit_code": 0, "labels": {"profile": "default", "corpus_id": ")" + corpus_id +
         R"("}, "counters": {"input_bytes": 0, "output_bytes": 0, "original_bytes": )" +
         std::to_string(original) + R"(, "container_bytes": )" + std::to_string(container) +
         R"(, "copy_bytes": 0, "copies": 0, "delta_bytes": 0, "deltas": 0, "literal_bytes": 0,
         "chunks": 0, "chunks_found": 0, "blocks": 0, "fetch_bytes": )" +
         std::to_string(fetch) + R"(, "fetch_requests": 0, "fetch_retries": 0,
         "pieces_fetched": 0, "pieces_cached": 0, "cache_bytes": 0},
         "ratio": 0.0, "hit_rate": 0.0, "coverage": 0.0, "throughput_bytes_per_second": 0.0,
         "wall_seconds": 2.5, "cpu_seconds": 4.0, "peak_memory_bytes": 0,
         "phases": {"read": {"wall_seconds": 0.0, "cpu_seconds": 0.0}},
         "verdict": {"bound": "cpu", "io_blocked_seconds": 0.0, "network_blocked_seconds": 0.0,
                     "compute_seconds": 0.0, "evidence": "x"}})";
}

RunRecord RunOf(const std::string& command, uint64_t original, uint64_t container, uint64_t fetch,
              const std::string& status = "ok", const std::string& corpus_id = "b3-one") {
  Result<RunRecord> run =
      ParseRunMetrics(Document(command, status, original, container, fetch, corpus_id), "run.json");
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  return *run;
}

// Two compress runs: 12 GB to 1 GB and 8 GB to 3 GB, so a mean transfer of 10 GB sent
// as 2 GB, 8 GB saved. A decompress run that fetched nothing (a warm cache).
RunSummary TwoCompressRuns() {
  Result<RunSummary> summary = SummarizeRuns({RunOf("compress", 12'000'000'000, 1'000'000'000, 0),
                                              RunOf("compress", 8'000'000'000, 3'000'000'000, 0),
                                              RunOf("decompress", 10'000'000'000, 2'000'000'000, 0)});
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  return *summary;
}

// 0.05 per GB sent, 0.02 per GB-month, 100 transfers a month, 4 receivers, a 5 GB corpus
// changed every other month, received data kept 3 months.
ReportInputs Inputs() {
  ReportInputs in;
  in.price_transfer_gb = 0.05;
  in.price_storage_gb_month = 0.02;
  in.transfers_per_month = 100;
  in.receivers = 4;
  in.corpus_bytes = 5'000'000'000;
  in.corpus_changes_per_month = 0.5;
  in.keep_months = 3;
  return in;
}

TEST(ReportParseTest, ReadsTheFieldsOfADocument) {
  Result<RunRecord> run = ParseRunMetrics(Document("compress", "ok", 100, 10, 7), "a.json");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->source, "a.json");
  EXPECT_EQ(run->command, "compress");
  EXPECT_EQ(run->status, "ok");
  EXPECT_EQ(run->corpus_id, "b3-one");
  EXPECT_EQ(run->original_bytes, 100u);
  EXPECT_EQ(run->container_bytes, 10u);
  EXPECT_EQ(run->fetch_bytes, 7u);
  EXPECT_DOUBLE_EQ(run->wall_seconds, 2.5);
  EXPECT_DOUBLE_EQ(run->cpu_seconds, 4.0);
}

TEST(ReportParseTest, ARunWithoutLabelsHasNoCorpus) {
  Result<RunRecord> run = ParseRunMetrics(
      R"({"reducto_metrics": 1, "command": "chunk", "status": "ok", "counters":
          {"original_bytes": 0, "container_bytes": 0, "fetch_bytes": 0},
          "wall_seconds": 0, "cpu_seconds": 0})",
      "a.json");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->corpus_id, "");
}

// Each malformed document is Corrupt and the message names the file and the key.
TEST(ReportParseTest, RefusesMalformedDocuments) {
  struct Case {
    std::string text, says;
  };
  const std::string good = Document("compress", "ok", 1, 1, 0);
  auto without = [&](const std::string& piece) {
    std::string text = good;
    text.erase(text.find(piece), piece.size());
    return text;
  };
  const Case cases[] = {
      {"{\"reducto_metrics\": 1,", "not JSON at byte"},
      {"[1, 2]", "not a JSON object"},
      {without(R"("reducto_metrics": 1, )"), "no \"reducto_metrics\""},
      {without(R"("command": "compress", )"), "no \"command\""},
      {without(R"("fetch_bytes": 0, )"), "no \"counters.fetch_bytes\""},
      {without(R"("wall_seconds": 2.5, )"), "no \"wall_seconds\""},
      {Document("compress", "ok", 1, 1, 0).replace(good.find("\"original_bytes\": 1"), 19,
                                                   "\"original_bytes\": -1"),
       "\"counters.original_bytes\" is not a non-negative integer"},
      {R"({"reducto_metrics": "1"})", "\"reducto_metrics\" is not an integer"},
  };
  for (const Case& c : cases) {
    Result<RunRecord> run = ParseRunMetrics(c.text, "bad.json");
    ASSERT_FALSE(run.ok()) << c.says;
    EXPECT_EQ(run.status().code(), StatusCode::kCorrupt) << c.says;
    EXPECT_NE(run.status().message().find("bad.json: "), std::string::npos);
    EXPECT_NE(run.status().message().find(c.says), std::string::npos) << run.status().message();
    EXPECT_NE(run.status().message().find("--metrics-json"), std::string::npos);
  }
}

TEST(ReportParseTest, RefusesAnUnknownVersion) {
  std::string text = Document("compress", "ok", 1, 1, 0);
  text.replace(text.find("\"reducto_metrics\": 1"), 20, "\"reducto_metrics\": 2");
  Result<RunRecord> run = ParseRunMetrics(text, "new.json");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(run.status().message().find("new.json: metrics document version 2, this reducto "
                                        "reads version 1"),
            std::string::npos)
      << run.status().message();
}

TEST(ReportParseTest, AMissingFileIsNotFound) {
  Result<RunRecord> run = ReadRunMetrics("/nonexistent/run.json");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kNotFound);
  EXPECT_NE(run.status().message().find("/nonexistent/run.json"), std::string::npos);
}

TEST(ReportSummaryTest, AveragesCompressRunsAndFetchingDecompressRuns) {
  RunRecord failed = RunOf("compress", 1, 1, 0, "not_found");
  failed.source = "failed.json";
  RunRecord standalone = RunOf("compress", 1, 1, 0, "ok", "");
  standalone.source = "standalone.json";
  Result<RunSummary> s = SummarizeRuns({RunOf("compress", 12'000'000'000, 1'000'000'000, 0),
                                        RunOf("compress", 8'000'000'000, 3'000'000'000, 0),
                                        RunOf("decompress", 1, 1, 1'000'000'000),
                                        RunOf("decompress", 1, 1, 3'000'000'000),
                                        RunOf("decompress", 1, 1, 0), RunOf("test", 1, 1, 0),
                                        failed, standalone});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->corpus_id, "b3-one");
  EXPECT_EQ(s->compress_runs, 2);
  EXPECT_DOUBLE_EQ(s->original_bytes_per_transfer, 10e9);
  EXPECT_DOUBLE_EQ(s->container_bytes_per_transfer, 2e9);
  EXPECT_DOUBLE_EQ(s->compress_wall_seconds, 2.5);
  EXPECT_DOUBLE_EQ(s->compress_cpu_seconds, 4.0);
  EXPECT_EQ(s->decompress_runs, 3);
  EXPECT_EQ(s->fetching_runs, 2);
  EXPECT_DOUBLE_EQ(s->fetch_bytes_per_receiver, 2e9);  // (1 + 3) / 2: the warm run is left out.
  EXPECT_EQ(s->other_runs, 1);
  ASSERT_EQ(s->skipped.size(), 2u);
  EXPECT_EQ(s->skipped[0].source, "failed.json");
  EXPECT_EQ(s->skipped[0].reason, "failed: not_found");
  EXPECT_EQ(s->skipped[1].source, "standalone.json");
}

TEST(ReportSummaryTest, RefusesRunsOfSeveralCorpora) {
  Result<RunSummary> s = SummarizeRuns({RunOf("compress", 2, 1, 0, "ok", "b3-one"),
                                        RunOf("compress", 2, 1, 0, "ok", "b3-two"),
                                        RunOf("decompress", 2, 1, 0, "ok", "b3-two")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("2 corpora: b3-one (1 run), b3-two (2 runs)"),
            std::string::npos)
      << s.status().message();
}

TEST(ReportSummaryTest, NeedsASuccessfulCompressRun) {
  Result<RunSummary> s = SummarizeRuns(
      {RunOf("decompress", 2, 1, 0), RunOf("compress", 2, 1, 0, "corrupt")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("none of the 2 runs is a successful compress run"),
            std::string::npos)
      << s.status().message();
}

// Worked by hand: 8 GB saved a transfer x 100 = 800 GB a month, 40.00 at 0.05; kept 3
// months, 2400 GB stored less, 48.00 at 0.02. The corpus, 5 GB to 4 receivers, is 20 GB
// (1.00) once and 10 GB (0.50) a month at half a change a month; stored in 4 + 1 places,
// 25 GB, 0.50 a month. Net 40 + 48 - 0.5 - 0.5 = 87; payback 1 / 87 months.
TEST(ReportEconomicsTest, FromTheCorpusSize) {
  Result<CorpusEconomics> e = ComputeEconomics(TwoCompressRuns(), Inputs());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_DOUBLE_EQ(e->saved_bytes_per_transfer, 8e9);
  EXPECT_DOUBLE_EQ(e->bandwidth_saved_bytes_per_month, 800e9);
  EXPECT_DOUBLE_EQ(e->bandwidth_saved, 40.0);
  EXPECT_DOUBLE_EQ(e->storage_saved_bytes, 2400e9);
  EXPECT_DOUBLE_EQ(e->storage_saved, 48.0);
  EXPECT_FALSE(e->distribution_from_fetch);
  EXPECT_DOUBLE_EQ(e->distribution_bytes_per_receiver, 5e9);
  EXPECT_DOUBLE_EQ(e->first_distribution_bytes, 20e9);
  EXPECT_DOUBLE_EQ(e->first_distribution_cost, 1.0);
  EXPECT_DOUBLE_EQ(e->distribution_bytes_per_month, 10e9);
  EXPECT_DOUBLE_EQ(e->distribution_cost, 0.5);
  EXPECT_EQ(e->corpus_copies, 5u);
  EXPECT_DOUBLE_EQ(e->corpus_storage_bytes, 25e9);
  EXPECT_DOUBLE_EQ(e->corpus_storage_cost, 0.5);
  EXPECT_DOUBLE_EQ(e->net_saving, 87.0);
  ASSERT_TRUE(e->payback_months.has_value());
  EXPECT_DOUBLE_EQ(*e->payback_months, 1.0 / 87.0);
}

// The same with fetches measured: 2 GB a receiver (1 GB and 3 GB fetched), so 8 GB
// (0.40) once and 4 GB (0.20) a month; net 40 + 48 - 0.2 - 0.5 = 87.3.
TEST(ReportEconomicsTest, FromMeasuredFetches) {
  RunSummary runs = TwoCompressRuns();
  runs.fetching_runs = 2;
  runs.fetch_bytes_per_receiver = 2e9;
  Result<CorpusEconomics> e = ComputeEconomics(runs, Inputs());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->distribution_from_fetch);
  EXPECT_DOUBLE_EQ(e->distribution_bytes_per_receiver, 2e9);
  EXPECT_DOUBLE_EQ(e->first_distribution_bytes, 8e9);
  EXPECT_DOUBLE_EQ(e->first_distribution_cost, 0.4);
  EXPECT_DOUBLE_EQ(e->distribution_cost, 0.2);
  EXPECT_DOUBLE_EQ(e->corpus_storage_cost, 0.5);  // Storage still counts the whole corpus.
  EXPECT_DOUBLE_EQ(e->net_saving, 87.3);
  EXPECT_DOUBLE_EQ(*e->payback_months, 0.4 / 87.3);
}

// Nothing kept, 2 places store the corpus: 10 GB, 0.20 a month; net 40 - 0.5 - 0.2.
TEST(ReportEconomicsTest, NothingKeptAndCorpusCopiesGiven) {
  ReportInputs in = Inputs();
  in.keep_months = 0;
  in.corpus_copies = 2;
  Result<CorpusEconomics> e = ComputeEconomics(TwoCompressRuns(), in);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_DOUBLE_EQ(e->storage_saved, 0.0);
  EXPECT_EQ(e->corpus_copies, 2u);
  EXPECT_DOUBLE_EQ(e->corpus_storage_cost, 0.2);
  EXPECT_DOUBLE_EQ(e->net_saving, 39.3);
}

// No transfers: the corpus only costs (0.5 + 0.5 a month), so it never pays back.
TEST(ReportEconomicsTest, NeverPaysBackWhenTheNetSavingIsNotPositive) {
  ReportInputs in = Inputs();
  in.transfers_per_month = 0;
  Result<CorpusEconomics> e = ComputeEconomics(TwoCompressRuns(), in);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_DOUBLE_EQ(e->net_saving, -1.0);
  EXPECT_FALSE(e->payback_months.has_value());
}

TEST(ReportEconomicsTest, RefusesNegativeOrMissingVolumes) {
  ReportInputs negative = Inputs();
  negative.price_transfer_gb = -0.01;
  Result<CorpusEconomics> e = ComputeEconomics(TwoCompressRuns(), negative);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("price_transfer_gb"), std::string::npos);

  ReportInputs nobody = Inputs();
  nobody.receivers = 0;
  e = ComputeEconomics(TwoCompressRuns(), nobody);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("receivers must be at least 1"), std::string::npos);
}

}  // namespace
}  // namespace reducto
