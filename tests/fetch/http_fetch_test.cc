// HttpFetcher (fetch/http_fetch.h) against the tests' own fault server
// (fetch/fault_server.h) and file:// URLs: exact bytes in parallel, connection reuse,
// and every failure the header lists, with what is retried and what the message says.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fetch/fault_server.h"
#include "fetch/http_fetch.h"
#include "reducto/digest.h"
#include "test_support.h"

namespace reducto {
namespace {

using testing::Fault;

constexpr char kPack[] = "corpora/c1/pack/000000.pz";
constexpr size_t kPackSize = 4 << 20;
constexpr char kToken[] = "tok-4e1f9a7b2c";

std::string Text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// A port on 127.0.0.1 with nothing listening: bound by the OS, then released.
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class HttpFetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pack_ = Text(testing::RandomBytes(kPackSize, 18));
    std::filesystem::create_directories(scratch_.Join("corpora/c1/pack"));
    testing::WriteFile(scratch_.Join(kPack), {pack_.begin(), pack_.end()});
    testing::WriteFile(scratch_.Join("corpora/c1/manifest.json"),
                       testing::RandomBytes(1000, 7));
    ASSERT_TRUE(server_.Start().ok());
    remote_.base_url = server_.url();
    remote_.backoff_ms = 5;
    remote_.timeouts.connect_seconds = 2;
    remote_.timeouts.low_speed_seconds = 2;
  }

  FetchRequest Range(uint64_t offset, uint64_t length) const { return {kPack, offset, length, 0}; }

  // Fetches `requests`; the bodies land in bodies_, each checked against the pack.
  Status FetchAll(const std::vector<FetchRequest>& requests, const Remote& remote) {
    bodies_.clear();
    return fetcher_.Fetch(remote, requests,
                          [this](size_t index, std::string&& body) {
                            bodies_[index] = std::move(body);
                            return Status::Ok();
                          },
                          &stats_);
  }
  Status FetchAll(const std::vector<FetchRequest>& requests) { return FetchAll(requests, remote_); }

  std::string url(const std::string& path) const { return server_.url() + "/" + path; }

  testing::ScratchDir scratch_;
  testing::FaultServer server_{scratch_.path()};
  std::string pack_;
  Remote remote_;
  HttpFetcher fetcher_;
  FetchStats stats_;
  std::map<size_t, std::string> bodies_;
};

TEST_F(HttpFetchTest, ManyRangesInParallelAreExact) {
  std::vector<FetchRequest> requests;
  for (uint64_t i = 0; i < 64; ++i) requests.push_back(Range(i * 60000 + i, 1 + i * 977));
  requests.push_back(Range(kPackSize - 10, 10));  // ends at the end
  ASSERT_TRUE(FetchAll(requests).ok());
  ASSERT_EQ(bodies_.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(bodies_[i], pack_.substr(requests[i].offset, requests[i].length)) << i;
  }
  EXPECT_EQ(stats_.requests, requests.size());
  EXPECT_EQ(stats_.retries, 0u);
}

TEST_F(HttpFetchTest, ConnectionsAreReused) {
  std::vector<FetchRequest> requests;
  for (uint64_t i = 0; i < 50; ++i) requests.push_back(Range(i * 4096, 4096));
  ASSERT_TRUE(FetchAll(requests).ok());
  EXPECT_LE(server_.connections(), 8);  // max_in_flight
  ASSERT_TRUE(FetchAll(requests).ok());
  EXPECT_LE(server_.connections(), 8);
  // One request at a time, call after call: the idle connections serve them all.
  int before = server_.connections();
  for (int call = 0; call < 10; ++call) ASSERT_TRUE(FetchAll({Range(0, 10)}).ok());
  EXPECT_EQ(server_.connections(), before);
  EXPECT_EQ(server_.requests(), 110);
}

TEST_F(HttpFetchTest, WholeObjectWithinItsBound) {
  auto manifest = fetcher_.FetchWhole(remote_, "corpora/c1/manifest.json", 1000, &stats_);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(*manifest, Text(testing::RandomBytes(1000, 7)));
}

TEST_F(HttpFetchTest, WholeObjectTooLargeIsCorruptAndNotRetried) {
  auto manifest = fetcher_.FetchWhole(remote_, "corpora/c1/manifest.json", 999, &stats_);
  ASSERT_EQ(manifest.status().code(), StatusCode::kCorrupt) << manifest.status().ToString();
  EXPECT_NE(manifest.status().message().find("1000 bytes"), std::string::npos);
  EXPECT_EQ(stats_.requests, 1u);
}

TEST_F(HttpFetchTest, RefusedConnectionIsRetriedThenUnavailable) {
  Remote remote = remote_;
  remote.base_url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  Status status = FetchAll({Range(0, 10)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find(remote.base_url + "/" + kPack + " bytes 0-9"), std::string::npos);
  EXPECT_NE(status.message().find("(4 attempts)"), std::string::npos) << status.message();
  EXPECT_EQ(stats_.requests, 4u);
  EXPECT_EQ(stats_.retries, 3u);
}

TEST_F(HttpFetchTest, ConnectionClosedWithoutAnswerIsRetried) {
  server_.Inject(Fault::kRefuse, 0, 1);
  ASSERT_TRUE(FetchAll({Range(5, 10)}).ok());
  EXPECT_EQ(bodies_[0], pack_.substr(5, 10));
  EXPECT_EQ(stats_.retries, 1u);
}

TEST_F(HttpFetchTest, UnresolvableHostIsUnavailable) {
  Remote remote = remote_;
  remote.base_url = "http://nonexistent.invalid";
  remote.attempts = 2;
  Status status = FetchAll({Range(0, 10)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("nonexistent.invalid"), std::string::npos);
  EXPECT_NE(status.message().find("(2 attempts)"), std::string::npos) << status.message();
}

TEST_F(HttpFetchTest, StallIsRetried) {
  server_.Inject(Fault::kStall, 10, 1);
  Remote remote = remote_;
  remote.timeouts.low_speed_seconds = 1;
  ASSERT_TRUE(FetchAll({Range(0, 100000)}, remote).ok());
  EXPECT_EQ(bodies_[0], pack_.substr(0, 100000));
  EXPECT_EQ(stats_.retries, 1u);
}

TEST_F(HttpFetchTest, StallEveryTimeIsUnavailable) {
  server_.Inject(Fault::kStall, 10, -1);
  Remote remote = remote_;
  remote.attempts = 2;
  remote.timeouts.low_speed_seconds = 1;
  Status status = FetchAll({Range(0, 100000)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("(2 attempts)"), std::string::npos) << status.message();
}

TEST_F(HttpFetchTest, NotFoundIsNotRetried) {
  Status status = FetchAll({{"corpora/c1/pack/000099.pz", 0, 10, 0}});
  ASSERT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_EQ(status.message(), "GET " + url("corpora/c1/pack/000099.pz") +
                                  " bytes 0-9: 404 Not Found (1 attempt)");
  EXPECT_EQ(stats_.requests, 1u);
}

TEST_F(HttpFetchTest, GoneIsNotFound) {
  server_.Inject(Fault::kStatus, 410, 1);
  EXPECT_EQ(FetchAll({Range(0, 10)}).code(), StatusCode::kNotFound);
  EXPECT_EQ(stats_.requests, 1u);
}

TEST_F(HttpFetchTest, MissingTokenIsPermission) {
  server_.RequireToken(kToken);
  Status status = FetchAll({Range(0, 10)});
  ASSERT_EQ(status.code(), StatusCode::kPermission) << status.ToString();
  EXPECT_NE(status.message().find("401 Unauthorized"), std::string::npos);
  EXPECT_NE(status.message().find("no bearer token was sent"), std::string::npos);
  EXPECT_EQ(stats_.requests, 1u);
}

TEST_F(HttpFetchTest, WrongTokenIsPermissionAndNeverInTheMessage) {
  server_.RequireToken(kToken);
  Remote remote = remote_;
  remote.bearer_token = "wrong-token-5d2c";
  Status status = FetchAll({Range(0, 10)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kPermission) << status.ToString();
  EXPECT_NE(status.message().find("403 Forbidden"), std::string::npos);
  EXPECT_NE(status.message().find("check the repository's bearer token"), std::string::npos);
  EXPECT_EQ(status.message().find("wrong-token-5d2c"), std::string::npos);
  EXPECT_EQ(stats_.requests, 1u);
}

TEST_F(HttpFetchTest, RightTokenIsServed) {
  server_.RequireToken(kToken);
  Remote remote = remote_;
  remote.bearer_token = kToken;
  ASSERT_TRUE(FetchAll({Range(0, 10)}, remote).ok());
  EXPECT_EQ(bodies_[0], pack_.substr(0, 10));
  server_.Inject(Fault::kStatus, 401, 1);  // the server changed its mind
  Status status = FetchAll({Range(0, 10)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kPermission);
  EXPECT_NE(status.message().find("check the repository's bearer token"), std::string::npos);
}

TEST_F(HttpFetchTest, TokenIsNeverInAnyMessage) {
  Remote remote = remote_;
  remote.bearer_token = kToken;
  std::vector<Status> failures;
  server_.Inject(Fault::kStatus, 503, -1);
  failures.push_back(FetchAll({Range(0, 10)}, remote));
  server_.Inject(Fault::kStatus, 403, -1);
  failures.push_back(FetchAll({Range(0, 10)}, remote));
  server_.Inject(Fault::kNone);
  // A consumer (or a server) that echoes the token back is scrubbed too.
  failures.push_back(fetcher_.Fetch(remote, std::vector<FetchRequest>{Range(0, 10)},
                                    [](size_t, std::string&&) {
                                      return Status::Integrity(std::string("saw ") + kToken);
                                    }));
  Remote unreachable = remote;
  unreachable.base_url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  failures.push_back(FetchAll({Range(0, 10)}, unreachable));
  Remote clear_text = remote;
  clear_text.base_url = "http://example.com/repo";
  failures.push_back(FetchAll({Range(0, 10)}, clear_text));
  for (const Status& status : failures) {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.ToString().find(kToken), std::string::npos) << status.ToString();
  }
}

TEST_F(HttpFetchTest, TokenThatLooksLikeTheMarkIsScrubbed) {
  Remote remote = remote_;
  remote.bearer_token = "token";
  Status status = fetcher_.Fetch(remote, std::vector<FetchRequest>{Range(0, 10)},
                                 [](size_t, std::string&&) {
                                   return Status::Integrity("token and token");
                                 });
  EXPECT_EQ(status.code(), StatusCode::kIntegrity);
  EXPECT_NE(status.message().find("<token> and <token> (4 attempts)"), std::string::npos)
      << status.message();
}

TEST_F(HttpFetchTest, TokenOverPlainHttpToAnotherHostIsRefused) {
  Remote remote = remote_;
  remote.bearer_token = kToken;
  remote.base_url = "http://example.com/repo";
  Status status = FetchAll({Range(0, 10)}, remote);
  ASSERT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("use https"), std::string::npos);
  EXPECT_EQ(stats_.requests, 0u);
  remote.base_url = "http://127.0.0.1.example.com/repo";  // a name, not loopback
  EXPECT_EQ(FetchAll({Range(0, 10)}, remote).code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpFetchTest, ServerErrorsThenSuccessAreRetried) {
  server_.Inject(Fault::kStatus, 503, 2);
  ASSERT_TRUE(FetchAll({Range(100, 1000)}).ok());
  EXPECT_EQ(bodies_[0], pack_.substr(100, 1000));
  EXPECT_EQ(stats_.requests, 3u);
  EXPECT_EQ(stats_.retries, 2u);
  for (int code : {500, 429}) {
    server_.Inject(Fault::kStatus, code, 1);
    EXPECT_TRUE(FetchAll({Range(0, 10)}).ok()) << code;
  }
  EXPECT_EQ(stats_.retries, 4u);
}

TEST_F(HttpFetchTest, ServerErrorEveryTimeFailsAfterTheAttempts) {
  server_.Inject(Fault::kStatus, 503, -1);
  Status status = FetchAll({Range(0, 65536)});
  ASSERT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "GET " + url(kPack) + " bytes 0-65535: 503 Service Unavailable (4 attempts)");
  EXPECT_EQ(stats_.requests, 4u);
  EXPECT_EQ(stats_.retries, 3u);
}

TEST_F(HttpFetchTest, BodyCutShortIsRetried) {
  server_.Inject(Fault::kCutShort, 0, 1);
  ASSERT_TRUE(FetchAll({Range(0, 200000)}).ok());
  EXPECT_EQ(bodies_[0], pack_.substr(0, 200000));
  EXPECT_EQ(stats_.retries, 1u);
  server_.Inject(Fault::kCutShort, 0, -1);
  EXPECT_EQ(FetchAll({Range(0, 200000)}).code(), StatusCode::kUnavailable);
}

TEST_F(HttpFetchTest, WholeObjectToARangedRequestIsAbortedAtItsHeader) {
  server_.Inject(Fault::kIgnoreRange, 0, -1);
  Status status = FetchAll({Range(0, 1000)});
  ASSERT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("200 OK with the whole object"), std::string::npos)
      << status.message();
  EXPECT_EQ(stats_.requests, 4u);
  EXPECT_LT(stats_.bytes_received, kPackSize / 16);  // four tries, not four whole packs
}

TEST_F(HttpFetchTest, WrongContentRangeIsRetried) {
  server_.Inject(Fault::kWrongRange, 0, 1);
  ASSERT_TRUE(FetchAll({Range(10, 10)}).ok());
  EXPECT_EQ(stats_.retries, 1u);
  server_.Inject(Fault::kWrongRange, 0, -1);
  Status status = FetchAll({Range(10, 10)});
  ASSERT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("Content-Range 'bytes 11-20/"), std::string::npos)
      << status.message();
}

TEST_F(HttpFetchTest, RangePastTheEndIsUnavailable) {
  Status status = FetchAll({Range(kPackSize, 10)});
  ASSERT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("416 Range Not Satisfiable (4 attempts)"), std::string::npos)
      << status.message();
}

// The consumer checks a digest, as a pack reader does.
TEST_F(HttpFetchTest, WrongBytesAreRetriedByTheConsumersDigest) {
  Digest expected = Blake3(std::span(reinterpret_cast<const uint8_t*>(pack_.data()), 4096));
  auto check = [&expected](size_t, std::string&& body) {
    Digest got = Blake3(std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
    if (!DigestEqual(got, expected)) return Status::Integrity("digest mismatch");
    return Status::Ok();
  };
  std::vector<FetchRequest> requests = {Range(0, 4096)};
  server_.Inject(Fault::kWrongBytes, 0, 1);
  ASSERT_TRUE(fetcher_.Fetch(remote_, requests, check, &stats_).ok());
  EXPECT_EQ(stats_.retries, 1u);
  server_.Inject(Fault::kWrongBytes, 0, -1);
  Status status = fetcher_.Fetch(remote_, requests, check);
  ASSERT_EQ(status.code(), StatusCode::kIntegrity);
  EXPECT_NE(status.message().find("digest mismatch"), std::string::npos);
  EXPECT_NE(status.message().find("(4 attempts)"), std::string::npos) << status.message();
}

TEST_F(HttpFetchTest, FileUrlRanges) {
  Remote remote = remote_;
  remote.base_url = "file://" + scratch_.path();
  std::vector<FetchRequest> requests;
  for (uint64_t i = 0; i < 20; ++i) requests.push_back(Range(i * 12345, 1 + i * 1000));
  ASSERT_TRUE(FetchAll(requests, remote).ok());
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(bodies_[i], pack_.substr(requests[i].offset, requests[i].length)) << i;
  }
  auto manifest = fetcher_.FetchWhole(remote, "corpora/c1/manifest.json", 1000);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(*manifest, Text(testing::RandomBytes(1000, 7)));
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(HttpFetchTest, FileUrlMissingFileAndShortFile) {
  Remote remote = remote_;
  remote.base_url = "file://" + scratch_.path();
  Status missing = FetchAll({{"corpora/c1/pack/000099.pz", 0, 10, 0}}, remote);
  ASSERT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  EXPECT_EQ(stats_.requests, 1u);
  Status past_end = FetchAll({Range(kPackSize - 5, 10)}, remote);
  ASSERT_EQ(past_end.code(), StatusCode::kUnavailable) << past_end.ToString();
  EXPECT_NE(past_end.message().find("got 5 of the 10 bytes"), std::string::npos);
  Status after_end = FetchAll({Range(kPackSize + 5, 10)}, remote);
  ASSERT_EQ(after_end.code(), StatusCode::kUnavailable) << after_end.ToString();
  EXPECT_EQ(stats_.requests, 3u);  // none retried
}

TEST_F(HttpFetchTest, MalformedRequestsAreRefusedBeforeSending) {
  EXPECT_EQ(FetchAll({{"../etc/passwd", 0, 10, 0}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FetchAll({{kPack, 0, 0, 0}}).code(), StatusCode::kInvalidArgument);  // no bound
  EXPECT_EQ(FetchAll({{kPack, 5, 0, 100}}).code(), StatusCode::kInvalidArgument);
  Remote ftp = remote_;
  ftp.base_url = "ftp://127.0.0.1/x";
  EXPECT_EQ(FetchAll({Range(0, 10)}, ftp).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(HttpFetchTest, PutStoresTheObject) {
  std::vector<uint8_t> data = testing::RandomBytes(300000, 3);
  ASSERT_TRUE(fetcher_.Put(remote_, "corpora/c2/manifest.json", data).ok());
  EXPECT_EQ(testing::ReadFile(scratch_.Join("corpora/c2/manifest.json")), data);
  server_.Inject(Fault::kStatus, 503, 1);
  ASSERT_TRUE(fetcher_.Put(remote_, "corpora/c2/other", data).ok());  // retried
  Remote local = remote_;
  local.base_url = "file://" + scratch_.path();
  EXPECT_EQ(fetcher_.Put(local, "x", data).code(), StatusCode::kInvalidArgument);
}

TEST(HttpFetchUrl, IsRemoteUrl) {
  EXPECT_TRUE(IsRemoteUrl("https://example.com/repo"));
  EXPECT_TRUE(IsRemoteUrl("http://127.0.0.1:8080"));
  EXPECT_TRUE(IsRemoteUrl("file:///srv/repo"));
  EXPECT_FALSE(IsRemoteUrl("/srv/repo"));
  EXPECT_FALSE(IsRemoteUrl("ftp://example.com"));
  EXPECT_FALSE(IsRemoteUrl("httpx://example.com"));
}

}  // namespace
}  // namespace reducto
