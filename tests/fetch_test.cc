// The fetch step: conversion from the npm package is exact (the official sha256 proves it) and a file
// that fails verification never reaches the cache.
#include "tokenmill/fetch.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "test_util.h"

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

TEST(Fetch, FromLocalRankFileVerifiesAndCaches) {
  FetchOptions cached;
  auto official = rank_file_path("r50k_base", cached, false);
  ASSERT_TRUE(official.ok()) << official.error();
  fs::path dir = fresh_dir("ok");
  FetchOptions options;
  options.cache_dir = dir.string();
  options.from = *official;
  Status s = fetch_rank_file("r50k_base", options);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(slurp(dir / "r50k_base.tiktoken"), slurp(*official));
  fs::remove_all(dir);
}

TEST(Fetch, CorruptSourceNeverReachesTheCache) {
  FetchOptions cached;
  auto official = rank_file_path("r50k_base", cached, false);
  ASSERT_TRUE(official.ok());
  fs::path dir = fresh_dir("corrupt");
  std::string contents = slurp(*official);
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
  if (!fs::exists(tgz)) GTEST_SKIP() << "no npm tarball in the cache (rank files came from elsewhere)";
  fs::path dir = fresh_dir("npm");
  for (const auto& info : known_rank_files()) {
    FetchOptions options;
    options.cache_dir = dir.string();
    options.from = tgz.string();
    Status s = fetch_rank_file(info.name, options);
    EXPECT_TRUE(s.ok()) << info.name << ": " << s.message();
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
  EXPECT_NE(p.error().find("tokenmill fetch cl100k_base"), std::string::npos) << p.error();
  options.from = "/nonexistent/file.tiktoken";
  s = fetch_rank_file("cl100k_base", options);
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent/file.tiktoken"), std::string::npos);
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
