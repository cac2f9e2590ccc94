// reducto serve's /metrics (serve/serve_metrics.h): what a real StoreServer on loopback
// counts for the requests a client makes, read back through GET /metrics.
#include "serve/serve_metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "reducto/serve.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::ScratchDir;
using Labels = std::map<std::string, std::string>;

constexpr size_t kFileSize = 100000;

// The value of the sample `name{labels}` (labels in any order) in a text exposition;
// -1 when there is none.
double Sample(const std::string& exposition, const std::string& name, const Labels& labels = {}) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (line.compare(0, name_end, name) != 0 || name_end != name.size()) continue;
    Labels found;
    size_t value_at = name_end + 1;
    if (line[name_end] == '{') {
      size_t close = line.find('}', name_end);
      std::string inside = line.substr(name_end + 1, close - name_end - 1);
      // The label values here never hold a comma or an escaped quote.
      std::istringstream pairs(inside);
      std::string pair;
      while (std::getline(pairs, pair, ',')) {
        size_t eq = pair.find('=');
        found[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
      }
      value_at = close + 2;
    }
    if (found == labels) return std::stod(line.substr(value_at));
  }
  return -1;
}

class ServeMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = testing::RandomBytes(kFileSize, 7);
    testing::WriteFile(store_.Join("pack"), data_);
  }

  // Starts a server on the store and a keep-alive client to it. One connection keeps
  // the requests in order on one server thread: each is counted before the next is read.
  void Start(StoreServerOptions options = {}) {
    options.store_dir = store_.path();
    options.listen = "127.0.0.1:0";
    Result<std::unique_ptr<StoreServer>> server = StoreServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    Result<int> port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_keep_alive(true);
  }

  // GET (or HEAD) path with headers; returns the status and adds the body received to
  // body_bytes_.
  int Request(const std::string& path, const httplib::Headers& headers = {}, bool head = false) {
    httplib::Result res = head ? client_->Head(path.c_str(), headers) : client_->Get(path.c_str(), headers);
    if (!res) return -1;
    body_bytes_ += res->body.size();
    if (res->has_header("ETag")) etag_ = res->get_header_value("ETag");
    return res->status;
  }

  std::string Scrape(const httplib::Headers& headers = {}) {
    httplib::Result res = client_->Get("/metrics", headers);
    if (!res || res->status != 200) return "";
    return res->body;
  }

  ScratchDir store_;
  std::vector<uint8_t> data_;
  std::unique_ptr<StoreServer> server_;
  std::unique_ptr<httplib::Client> client_;
  uint64_t body_bytes_ = 0;
  std::string etag_;
};

TEST_F(ServeMetricsTest, CountsEveryKindOfAnswer) {
  Start();
  ASSERT_EQ(Request("/pack"), 200);
  ASSERT_EQ(Request("/pack", {}, /*head=*/true), 200);
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=0-99"}}), 206);
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=0-9,100-109,-5"}}), 206);  // Multipart, 3 parts.
  ASSERT_EQ(Request("/pack", {{"If-None-Match", etag_}}), 304);
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=10-59"}, {"If-Range", etag_}}), 206);
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=10-59"}, {"If-Range", "\"stale\""}}), 200);
  ASSERT_EQ(Request("/missing"), 404);
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=200000-"}}), 416);
  ASSERT_EQ(Request("/a/../pack"), 400);
  ASSERT_EQ(client_->Post("/pack", "x", "text/plain")->status, 405);
  ASSERT_EQ(Request("/healthz"), 200);
  const uint64_t healthz_bytes = 3;  // "ok\n", not store traffic.
  const uint64_t method_bytes = std::string("method not allowed: this server is read-only (GET, HEAD)\n").size();

  std::string text = Scrape();
  ASSERT_FALSE(text.empty());
  auto requests = [&](const char* method, const char* code) {
    return Sample(text, "reducto_serve_requests_total", {{"method", method}, {"code", code}});
  };
  EXPECT_EQ(requests("GET", "200"), 3);  // Whole, stale If-Range, /healthz.
  EXPECT_EQ(requests("HEAD", "200"), 1);
  EXPECT_EQ(requests("GET", "206"), 3);
  EXPECT_EQ(requests("GET", "304"), 1);
  EXPECT_EQ(requests("GET", "404"), 1);
  EXPECT_EQ(requests("GET", "416"), 1);
  EXPECT_EQ(requests("GET", "400"), 1);
  EXPECT_EQ(requests("POST", "405"), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_range_requests_total"), 3);
  EXPECT_EQ(Sample(text, "reducto_serve_ranges_total"), 1 + 3 + 1);
  EXPECT_EQ(Sample(text, "reducto_serve_not_modified_total"), 2);  // The 304 and the If-Range hit.
  EXPECT_EQ(Sample(text, "reducto_serve_response_bytes_total"),
            static_cast<double>(body_bytes_ - healthz_bytes + method_bytes));
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "not_found"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "bad_range"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "bad_request"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "method"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "unauthorized"}}), 0);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "internal"}}), 0);
  // Every store request, not /healthz: 11.
  EXPECT_EQ(Sample(text, "reducto_serve_request_duration_seconds_count"), 11);
  EXPECT_EQ(Sample(text, "reducto_serve_request_duration_seconds_bucket", {{"le", "+Inf"}}), 11);
  EXPECT_GT(Sample(text, "reducto_serve_request_duration_seconds_sum"), 0);
  EXPECT_EQ(Sample(text, "reducto_serve_in_flight_requests"), 0);
  EXPECT_GT(Sample(text, "reducto_serve_start_time_seconds"), 1.7e9);

  // The scrape itself is a request, but not store traffic.
  std::string again = Scrape();
  EXPECT_EQ(Sample(again, "reducto_serve_requests_total", {{"method", "GET"}, {"code", "200"}}), 4);
  EXPECT_EQ(Sample(again, "reducto_serve_request_duration_seconds_count"), 11);
  EXPECT_EQ(Sample(again, "reducto_serve_response_bytes_total"),
            Sample(text, "reducto_serve_response_bytes_total"));
}

TEST_F(ServeMetricsTest, AnswersInTheTextFormat) {
  Start();
  httplib::Result res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("# TYPE reducto_serve_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(res->body.find("# TYPE reducto_serve_errors_total counter\n"), std::string::npos);
  EXPECT_NE(res->body.find("# TYPE reducto_serve_in_flight_requests gauge\n"), std::string::npos);
  // The buckets reach from a loopback answer to a slow WAN transfer.
  EXPECT_EQ(Sample(res->body, "reducto_serve_request_duration_seconds_bucket", {{"le", "0.0005"}}), 0);
  EXPECT_EQ(Sample(res->body, "reducto_serve_request_duration_seconds_bucket", {{"le", "10"}}), 0);
  // A HEAD gets the headers only.
  httplib::Result head = client_->Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

// httplib answers 416 itself, before the server's handlers, for a Range header it
// cannot parse: an error, but one without a duration.
TEST_F(ServeMetricsTest, CountsWhatHttplibRefusesItself) {
  Start();
  ASSERT_EQ(Request("/pack", {{"Range", "bytes=a-b"}}), 416);
  std::string text = Scrape();
  EXPECT_EQ(Sample(text, "reducto_serve_requests_total", {{"method", "GET"}, {"code", "416"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "bad_range"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_request_duration_seconds_count"), 0);
  EXPECT_EQ(Sample(text, "reducto_serve_in_flight_requests"), 0);
}

TEST_F(ServeMetricsTest, NeedsTheTokenWhenTheStoreDoes) {
  StoreServerOptions options;
  options.bearer_tokens = {"reader-token"};
  Start(options);
  EXPECT_EQ(Request("/metrics"), 401);
  EXPECT_EQ(Request("/metrics", {{"Authorization", "Bearer wrong"}}), 403);
  EXPECT_EQ(Request("/pack"), 401);
  std::string text = Scrape({{"Authorization", "Bearer reader-token"}});
  ASSERT_FALSE(text.empty());
  // The refused scrapes count as requests, not as store errors.
  EXPECT_EQ(Sample(text, "reducto_serve_requests_total", {{"method", "GET"}, {"code", "401"}}), 2);
  EXPECT_EQ(Sample(text, "reducto_serve_requests_total", {{"method", "GET"}, {"code", "403"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "unauthorized"}}), 1);
  EXPECT_EQ(Sample(text, "reducto_serve_errors_total", {{"kind", "forbidden"}}), 0);
}

TEST_F(ServeMetricsTest, PublicMetricsNeedNoTokenButTheStoreStillDoes) {
  StoreServerOptions options;
  options.bearer_tokens = {"reader-token"};
  options.metrics_public = true;
  Start(options);
  EXPECT_EQ(Request("/metrics"), 200);
  EXPECT_EQ(Request("/pack"), 401);
  EXPECT_EQ(Request("/pack", {{"Authorization", "Bearer reader-token"}}), 200);
}

TEST(ServeMetricsLabels, MethodsOutsideHttpsRegisterAreOther) {
  EXPECT_EQ(serve::MethodLabel("GET"), "GET");
  EXPECT_EQ(serve::MethodLabel("DELETE"), "DELETE");
  EXPECT_EQ(serve::MethodLabel("get"), "other");
  EXPECT_EQ(serve::MethodLabel("BREW"), "other");
  EXPECT_EQ(serve::MethodLabel(""), "other");
}

TEST(ServeMetricsLabels, ErrorKindsByStatus) {
  EXPECT_EQ(serve::ErrorKind(200), "");
  EXPECT_EQ(serve::ErrorKind(206), "");
  EXPECT_EQ(serve::ErrorKind(304), "");
  EXPECT_EQ(serve::ErrorKind(400), "bad_request");
  EXPECT_EQ(serve::ErrorKind(401), "unauthorized");
  EXPECT_EQ(serve::ErrorKind(403), "forbidden");
  EXPECT_EQ(serve::ErrorKind(404), "not_found");
  EXPECT_EQ(serve::ErrorKind(405), "method");
  EXPECT_EQ(serve::ErrorKind(413), "too_large");
  EXPECT_EQ(serve::ErrorKind(414), "too_large");
  EXPECT_EQ(serve::ErrorKind(416), "bad_range");
  EXPECT_EQ(serve::ErrorKind(418), "other");
  EXPECT_EQ(serve::ErrorKind(500), "internal");
  EXPECT_EQ(serve::ErrorKind(503), "internal");
}

}  // namespace
}  // namespace reducto
