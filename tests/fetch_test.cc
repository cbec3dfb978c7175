// The fetch step: conversion from the npm package is exact (the official sha256 proves it), a file that
// fails verification never reaches the cache, downloads go over HTTP (here a loopback server the test runs
// itself: no traffic leaves 127.0.0.1), proxies come from the environment, offline mode never connects,
// concurrent fetches all succeed, and the library prints nothing.
#include "tokenmill/fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "util/sha256.h"

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("tokenmill_fetch_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string official(const std::string& name) {
  FetchOptions cached;
  auto path = rank_file_path(name, cached, false);
  EXPECT_TRUE(path.ok()) << path.error();
  return path.ok() ? slurp(*path) : std::string();
}

// The npm tarball the test command's fetch step leaves in the cache (a reference: missing is a failure).
std::string npm_tarball() {
  fs::path tgz = fs::path(default_cache_dir()) / "tiktoken-1.0.22.tgz";
  EXPECT_TRUE(fs::exists(tgz)) << tgz << " is missing: `tokenmill fetch all` on an empty cache downloads it";
  return slurp(tgz);
}

// A minimal HTTP/1.0 server on 127.0.0.1: answers each request from `routes` (keyed by the request target
// as sent: "/path", or "http://host/path" when it is used as a proxy) or with 404, and records requests.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::map<std::string, std::string> routes) : routes_(std::move(routes)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) break;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, size_t(n));
      }
      std::istringstream line(head.substr(0, head.find("\r\n")));
      std::string method, target;
      line >> method >> target;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(method + " " + target);
      }
      auto it = method == "GET" ? routes_.find(target) : routes_.end();
      std::string body = it == routes_.end() ? "not here\n" : it->second;
      std::string reply = std::string(it == routes_.end() ? "HTTP/1.0 404 Not Found" : "HTTP/1.0 200 OK") +
                          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      for (size_t off = 0; off < reply.size();) {
        ssize_t n = ::send(c, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += size_t(n);
      }
      ::close(c);
    }
  }
  std::map<std::string, std::string> routes_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

// Proxy variables of the machine running the tests must not reroute loopback requests, and offline mode
// is off unless a test turns it on.
class FetchNet : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy",
                          "TOKENMILL_OFFLINE"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    for (const char* v : {"http_proxy", "HTTPS_PROXY", "TOKENMILL_OFFLINE"}) ::unsetenv(v);
  }
};

// SHA-256 verifies every rank file: FIPS 180-4's examples, and the x86 SHA-instruction path equal to the
// portable one on every length around the block and padding edges, whole and streamed in odd pieces.
TEST(Sha256, MatchesTheStandardsVectorsOnBothPaths) {
  std::string million_a(1000000, 'a');
  std::mt19937 rng(5);
  std::string random(1 << 20, '\0');
  for (char& c : random) c = char(rng());
  const bool hardware = util::sha256_uses_hardware(true);
  for (bool use_hardware : {false, true}) {
    util::sha256_uses_hardware(use_hardware);
    EXPECT_EQ(util::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(util::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(util::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(util::sha256_hex(million_a), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
  for (size_t n = 0; n <= 300; ++n) {
    util::sha256_uses_hardware(false);
    const std::string portable = util::sha256_hex(std::string_view(random).substr(0, n));
    util::sha256_uses_hardware(true);
    EXPECT_EQ(util::sha256_hex(std::string_view(random).substr(0, n)), portable) << n;
  }
  util::sha256_uses_hardware(false);
  const std::string portable = util::sha256_hex(random);
  util::sha256_uses_hardware(true);
  util::Sha256 streamed;
  for (size_t pos = 0, step = 1; pos < random.size(); pos += step, step = step * 3 % 1000 + 1) {
    streamed.update(std::string_view(random).substr(pos, step));
  }
  EXPECT_EQ(streamed.hex_digest(), portable);
  util::sha256_uses_hardware(hardware);
}

TEST(Fetch, FromLocalRankFileVerifiesAndCaches) {
  std::string want = official("r50k_base");
  fs::path dir = fresh_dir("ok");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.from = (fs::path(default_cache_dir()) / "r50k_base.tiktoken").string();
  Status s = fetch_rank_file("r50k_base", options);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), want);
  fs::remove_all(dir);
}

TEST(Fetch, CorruptSourceNeverReachesTheCache) {
  fs::path dir = fresh_dir("corrupt");
  std::string contents = official("r50k_base");
  for (std::string bad : {contents.substr(0, contents.size() / 2), contents + "YQ== 50256\n",
                          std::string("x") + contents.substr(1)}) {
    std::ofstream(dir / "bad.tiktoken", std::ios::binary) << bad;
    FetchOptions options;
    options.cache_dir = (dir / "cache").string();
    options.from = (dir / "bad.tiktoken").string();
    Status s = fetch_rank_file("r50k_base", options);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), ErrorCode::kIntegrityError) << s.message();
    EXPECT_NE(s.message().find("sha256"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "cache" / "r50k_base.tiktoken"));
    for (auto& entry : fs::directory_iterator(dir / "cache")) ADD_FAILURE() << "left behind: " << entry.path();
  }
  fs::remove_all(dir);
}

TEST(Fetch, NpmTarballConversionMatchesOfficialHashes) {
  // The cache keeps the npm tarball it converted from; converting again must give every official file.
  fs::path tgz = fs::path(default_cache_dir()) / "tiktoken-1.0.22.tgz";
  ASSERT_TRUE(fs::exists(tgz)) << tgz << " is missing: `tokenmill fetch all` on an empty cache downloads it";
  fs::path dir = fresh_dir("npm");
  for (const auto& info : known_rank_files()) {
    FetchOptions options;
    options.cache_dir = dir.string();
    options.from = tgz.string();
    Status s = fetch_rank_file(info.name, options);
    EXPECT_TRUE(s.ok()) << info.name << ": " << s.message();
    EXPECT_EQ(util::sha256_hex(slurp(dir / (std::string(info.name) + ".tiktoken"))), info.sha256);
  }
  fs::remove_all(dir);
}

TEST(Fetch, UnknownNameAndMissingFileAreClearErrors) {
  FetchOptions options;
  options.cache_dir = fresh_dir("unknown").string();
  Status s = fetch_rank_file("cl200k_base", options);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find("cl200k_base"), std::string::npos);
  auto p = rank_file_path("cl100k_base", options, /*fetch=*/false);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find(options.cache_dir + "/cl100k_base.tiktoken is missing"), std::string::npos) << p.error();
  options.from = "/nonexistent/file.tiktoken";
  s = fetch_rank_file("cl100k_base", options);
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent/file.tiktoken"), std::string::npos);
}

TEST(Fetch, DirectoryWhereACacheFileBelongsIsAClearError) {
  fs::path dir = fresh_dir("isdir");
  fs::create_directories(dir / "r50k_base.tiktoken");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.from = (fs::path(default_cache_dir()) / "r50k_base.tiktoken").string();
  Status s = fetch_rank_file("r50k_base", options);
  EXPECT_EQ(s.code(), ErrorCode::kIoError) << s.message();
  EXPECT_NE(s.message().find((dir / "r50k_base.tiktoken").string() + " is a directory"), std::string::npos)
      << s.message();
  auto p = rank_file_path("r50k_base", options, /*fetch=*/false);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("is a directory"), std::string::npos) << p.error();
  LoadOptions load;
  load.cache_dir = dir.string();
  auto enc = Encoding::load("gpt2", load);  // an error value, not an escaping std::ios_base::failure
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.error().find("is a directory"), std::string::npos) << enc.error();
  // A directory given as --from is an npm package folder; one without the encoder is named.
  options.from = dir.string();
  fs::remove_all(dir / "r50k_base.tiktoken");
  s = fetch_rank_file("r50k_base", options);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.message();
  EXPECT_NE(s.message().find("encoders/r50k_base.json"), std::string::npos) << s.message();
  fs::remove_all(dir);
}

TEST_F(FetchNet, DownloadsTheNpmTarballOnceAndConvertsFromIt) {
  LoopbackServer server({{"/tiktoken-1.0.22.tgz", npm_tarball()}});
  fs::path dir = fresh_dir("http");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.npm_tarball_url = server.url("/tiktoken-1.0.22.tgz");
  options.openai_url_prefix = server.url("/encodings/");
  std::vector<std::string> progress;
  options.progress = [&](std::string_view line) { progress.emplace_back(line); };
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  Status s = fetch_rank_file("r50k_base", options);
  Status s2 = fetch_rank_file("cl100k_base", options);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // the library never prints
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(s2.ok()) << s2.message();
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), official("r50k_base"));
  EXPECT_EQ(slurp(dir / "cl100k_base.tiktoken"), official("cl100k_base"));
  EXPECT_EQ(server.requests(), std::vector<std::string>{"GET /tiktoken-1.0.22.tgz"});  // kept for the second
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress[0], "downloading " + options.npm_tarball_url);
  EXPECT_NE(progress.back().find("wrote " + (dir / "cl100k_base.tiktoken").string()), std::string::npos);
  fs::remove_all(dir);
}

TEST_F(FetchNet, FallsBackToOpenAiUrlAndReportsEverySourceTried) {
  const std::string r50k = official("r50k_base");
  LoopbackServer server({{"/encodings/r50k_base.tiktoken", r50k}, {"/encodings/p50k_base.tiktoken", r50k}});
  fs::path dir = fresh_dir("fallback");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.npm_tarball_url = server.url("/npm/tiktoken-1.0.22.tgz");
  options.openai_url_prefix = server.url("/encodings/");
  Status s = fetch_rank_file("r50k_base", options);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), r50k);
  // p50k_base served with r50k's bytes: refused, nothing cached, both sources named in the error.
  s = fetch_rank_file("p50k_base", options);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(options.npm_tarball_url + ": HTTP 404"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(server.url("/encodings/p50k_base.tiktoken") + ": sha256"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find((dir / "p50k_base.tiktoken").string()), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir / "p50k_base.tiktoken"));
  fs::remove_all(dir);
}

TEST_F(FetchNet, OfflineNeverConnectsAndNamesWhereToPutTheFile) {
  LoopbackServer server(std::map<std::string, std::string>{{"/tiktoken-1.0.22.tgz", "unused"}});
  fs::path dir = fresh_dir("offline");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.npm_tarball_url = server.url("/tiktoken-1.0.22.tgz");
  options.openai_url_prefix = server.url("/encodings/");
  for (int via_env = 0; via_env < 2; ++via_env) {
    options.offline = !via_env;
    if (via_env) ::setenv("TOKENMILL_OFFLINE", "1", 1);
    Status s = fetch_rank_file("r50k_base", options);
    EXPECT_EQ(s.code(), ErrorCode::kNotFound) << s.message();
    EXPECT_NE(s.message().find("offline"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("at " + (dir / "r50k_base.tiktoken").string()), std::string::npos) << s.message();
    auto p = rank_file_path("r50k_base", options, /*fetch=*/true);
    EXPECT_FALSE(p.ok());
    LoadOptions load;
    load.cache_dir = dir.string();
    if (via_env) EXPECT_FALSE(Encoding::load("gpt2", load).ok());
  }
  EXPECT_EQ(server.requests(), std::vector<std::string>{});
  // A local source is not the network: offline fetches from it.
  options.from = (fs::path(default_cache_dir()) / "r50k_base.tiktoken").string();
  EXPECT_TRUE(fetch_rank_file("r50k_base", options).ok());
  ::setenv("TOKENMILL_OFFLINE", "0", 1);  // "0" means online
  EXPECT_FALSE(offline_from_environment());
  fs::remove_all(dir);
}

TEST_F(FetchNet, ProxyComesFromTheEnvironment) {
  const std::string r50k = official("r50k_base");
  // As an HTTP proxy the server sees absolute targets; tokenmill-test.invalid cannot resolve (RFC 2606),
  // so a success proves the request went through the proxy.
  LoopbackServer proxy({{"http://tokenmill-test.invalid/enc/r50k_base.tiktoken", r50k}});
  ::setenv("http_proxy", proxy.url("").c_str(), 1);
  fs::path dir = fresh_dir("proxy");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.npm_tarball_url = "http://tokenmill-test.invalid/npm.tgz";
  options.openai_url_prefix = "http://tokenmill-test.invalid/enc/";
  Status s = fetch_rank_file("r50k_base", options);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), r50k);
  // HTTPS through HTTPS_PROXY: the proxy is asked to CONNECT (and refuses: no TLS leaves this machine).
  ::unsetenv("http_proxy");
  ::setenv("HTTPS_PROXY", proxy.url("").c_str(), 1);
  options.npm_tarball_url = "https://registry.npmjs.org/tiktoken/-/tiktoken-1.0.22.tgz";
  options.openai_url_prefix = "https://tokenmill-test.invalid/enc/";
  s = fetch_rank_file("p50k_base", options);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(proxy.requests(),
            (std::vector<std::string>{"GET http://tokenmill-test.invalid/npm.tgz",
                                      "GET http://tokenmill-test.invalid/enc/r50k_base.tiktoken",
                                      "CONNECT registry.npmjs.org:443", "CONNECT tokenmill-test.invalid:443"}));
  fs::remove_all(dir);
}

TEST_F(FetchNet, ConcurrentFetchesIntoAnEmptyCacheAllSucceed) {
  LoopbackServer server({{"/tiktoken-1.0.22.tgz", npm_tarball()}});
  const std::string want = official("r50k_base");
  fs::path dir = fresh_dir("concurrent");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.npm_tarball_url = server.url("/tiktoken-1.0.22.tgz");
  options.openai_url_prefix = server.url("/encodings/");
  // Processes (which share no lock) and threads, all at once.
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) _exit(fetch_rank_file("r50k_base", options).ok() ? 0 : 1);
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto path = rank_file_path("r50k_base", options, /*fetch=*/true);
      if (!path.ok() || slurp(*path) != want) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a child process failed to fetch";
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), want);
  for (auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "r50k_base.tiktoken" || name == "tiktoken-1.0.22.tgz") << "left behind: " << name;
  }
  fs::remove_all(dir);
}

// Tarballs made by GNU tar in each of its formats, compressed by gzip(1): independent of the reader.
TEST(Tarball, ReadsMembersOfEveryTarFormat) {
  fs::path dir = fresh_dir("tar");
  const std::string long_dir = "package/" + std::string(120, 'd');
  fs::create_directories(dir / "src" / long_dir);
  fs::create_directories(dir / "src" / "package" / "encoders");
  std::ofstream(dir / "src" / "package" / "encoders" / "x.json", std::ios::binary) << "{\"bpe_ranks\": \"! 0 QQ==\"}";
  std::ofstream(dir / "src" / long_dir / "deep.txt", std::ios::binary) << std::string(1000, 'z');
  std::ofstream(dir / "src" / "package" / "empty", std::ios::binary);
  for (std::string format : {"ustar", "pax", "gnu"}) {
    fs::path tgz = dir / (format + ".tgz");
    // ustar cannot store the long directory: tar leaves it out (and says so, silenced here).
    std::string cmd = "tar --format=" + format + " -C " + (dir / "src").string() + " -cf - package" +
                      (format == "ustar" ? " 2>/dev/null" : "") + " | gzip -n > " + tgz.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::string bytes = slurp(tgz);
    auto json = read_tgz_member(bytes, "package/encoders/x.json", tgz.string());
    ASSERT_TRUE(json.ok()) << format << ": " << json.error();
    EXPECT_EQ(*json, "{\"bpe_ranks\": \"! 0 QQ==\"}");
    auto empty = read_tgz_member(bytes, "package/empty", tgz.string());
    ASSERT_TRUE(empty.ok()) << empty.error();
    EXPECT_EQ(*empty, "");
    if (format != "ustar") {  // ustar cannot hold a 133-byte directory name without a split prefix
      auto deep = read_tgz_member(bytes, long_dir + "/deep.txt", tgz.string());
      ASSERT_TRUE(deep.ok()) << format << ": " << deep.error();
      EXPECT_EQ(*deep, std::string(1000, 'z'));
    }
    auto none = read_tgz_member(bytes, "package/encoders/y.json", tgz.string());
    EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);
    EXPECT_NE(none.error().find("no package/encoders/y.json"), std::string::npos) << none.error();
  }
  fs::remove_all(dir);
}

TEST(Tarball, DamagedArchivesAreErrorsNamingTheProblem) {
  fs::path dir = fresh_dir("badtar");
  fs::create_directories(dir / "src" / "package");
  std::ofstream(dir / "src" / "package" / "a.txt", std::ios::binary) << std::string(5000, 'a');
  ASSERT_EQ(std::system(("tar --format=pax -C " + (dir / "src").string() + " -cf " + (dir / "a.tar").string() +
                         " package && gzip -nk " + (dir / "a.tar").string())
                            .c_str()),
            0);
  const std::string tar = slurp(dir / "a.tar"), tgz = slurp(dir / "a.tar.gz");
  auto expect_error = [](const Result<std::string>& r, const std::string& says) {
    ASSERT_FALSE(r.ok()) << "accepted; expected: " << says;
    EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.error();
    EXPECT_NE(r.error().find(says), std::string::npos) << r.error();
  };
  expect_error(read_tgz_member(tar, "package/a.txt", "plain.tar"), "plain.tar: not valid gzip data");
  expect_error(read_tgz_member(tgz.substr(0, tgz.size() / 2), "package/a.txt", "half.tgz"),
               "half.tgz: truncated gzip data");
  expect_error(read_tgz_member("", "package/a.txt", "empty.tgz"), "empty.tgz: truncated gzip data");
  // Damage inside the (uncompressed) tar, then compress again.
  auto regzip = [&](std::string t) {
    std::ofstream(dir / "b.tar", std::ios::binary) << t;
    EXPECT_EQ(std::system(("gzip -nf " + (dir / "b.tar").string()).c_str()), 0);
    return slurp(dir / "b.tar.gz");
  };
  std::string flipped = tar;
  flipped[3] ^= 1;  // a name byte of the first (pax) header: its checksum no longer matches
  expect_error(read_tgz_member(regzip(flipped), "package/a.txt", "flip.tgz"), "header checksum mismatch");
  // The member's data cut short, with the tar's end blocks gone.
  size_t data = tar.find(std::string(100, 'a'));
  ASSERT_NE(data, std::string::npos);
  expect_error(read_tgz_member(regzip(tar.substr(0, data + 100)), "package/a.txt", "cut.tgz"), "truncated");
  fs::remove_all(dir);
}

TEST(NpmRanks, FieldsAndRankJumps) {
  // The npm format: "! N" sets the next rank; tokens take the running rank.
  auto t = npm_bpe_ranks_to_tiktoken("! 0 QQ== Qg== ! 5 Qw==", "test");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "QQ== 0\nQg== 1\nQw== 5\n");
  EXPECT_FALSE(npm_bpe_ranks_to_tiktoken("! x QQ==", "test").ok());
}

}  // namespace
}  // namespace tokenmill
