#include "tokenmill/vocab.h"

#include <fstream>
#include <map>
#include <sstream>

#include "test_util.h"
#include "tokenmill/fetch.h"
#include "util/sha256.h"

namespace tokenmill {
namespace {

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain));
  }
  for (const char* bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm=v"}) EXPECT_FALSE(base64_decode(bad)) << bad;
}

// FIPS 180-2 / NIST example vectors.
TEST(Sha256, NistVectors) {
  EXPECT_EQ(util::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(util::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(util::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(util::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

void expect_parse_error(const std::string& contents, const std::string& where, const std::string& what) {
  auto v = Vocabulary::parse_tiktoken(contents, "ranks.tiktoken");
  ASSERT_FALSE(v.ok()) << "accepted: " << contents;
  EXPECT_EQ(v.status().code(), ErrorCode::kParseError);
  EXPECT_NE(v.error().find(where), std::string::npos) << v.error();
  EXPECT_NE(v.error().find(what), std::string::npos) << v.error();
}

TEST(ParseTiktoken, RejectsMalformedFilesNamingFileAndLine) {
  expect_parse_error("YQ== 0\nYg=! 1\n", "ranks.tiktoken:2", "invalid base64");
  expect_parse_error("YQ== 0\nYg== one\n", "ranks.tiktoken:2", "not a number");
  expect_parse_error("YQ== 0\nYg== -1\n", "ranks.tiktoken:2", "not a number");
  expect_parse_error("YQ== 0\nYQ== 1\n", "ranks.tiktoken:2", "duplicate token 'a'");
  expect_parse_error("YQ== 0\nYg== 0\n", "ranks.tiktoken:2", "duplicate rank 0");
  expect_parse_error("YQ== 0\nYg==\n", "ranks.tiktoken:2", "expected 'base64-token rank'");
  expect_parse_error("YQ== 0\n 1\n", "ranks.tiktoken:2", "expected");
  expect_parse_error("", "ranks.tiktoken", "no tokens");
  expect_parse_error("YQ== 0\nYg== 99999999999\n", "ranks.tiktoken:2", "not a number");
}

TEST(ParseTiktoken, GapsAreKeptForSpecialTokensToFill) {
  // OpenAI's p50k_base file has no rank 50256 (<|endoftext|>'s id); Encoding checks the gap is filled.
  auto v = Vocabulary::parse_tiktoken("YQ== 0\nYg== 2\n", "gap.tiktoken");
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_FALSE(v->contains_rank(1));
  EXPECT_EQ(v->rank_limit(), 3u);
  EXPECT_EQ(v->to_tiktoken(), "YQ== 0\nYg== 2\n");
}

TEST(ParseTiktoken, UnreadableFileIsAnIoError) {
  auto v = Vocabulary::load_tiktoken_file("/nonexistent/ranks.tiktoken");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kIoError);
  EXPECT_NE(v.error().find("/nonexistent/ranks.tiktoken"), std::string::npos);
}

// /dev/zero never ends: the read is bounded (1 GiB) and every failure is a value, not an exception.
TEST(ParseTiktoken, DevZeroAndDirectoriesAreErrorsNotExceptions) {
  auto z = Vocabulary::load_tiktoken_file("/dev/zero");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().find("/dev/zero"), std::string::npos) << z.error();
  auto d = Vocabulary::load_tiktoken_file("/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("is a directory"), std::string::npos) << d.error();
}

// The official files (verified by sha256 when fetched) survive parse -> write byte for byte.
TEST(ParseTiktoken, OfficialFilesRoundTripExactly) {
  for (const auto& info : known_rank_files()) {
    FetchOptions options;
    auto path = rank_file_path(info.name, options, /*fetch=*/false);
    ASSERT_TRUE(path.ok()) << path.error();
    std::ifstream in(*path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string contents = ss.str();
    ASSERT_EQ(util::sha256_hex(contents), info.sha256);
    auto v = Vocabulary::parse_tiktoken(contents, *path);
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(v->to_tiktoken(), contents) << info.name;
    for (Rank r = 0; r < v->rank_limit(); r += 97) EXPECT_EQ(v->find(v->token_bytes(r)), r);
  }
}

TEST(Vocabulary, FindMissesNonTokens) {
  const Vocabulary& v = testing::builtin("cl100k_base").ranks();
  // The oracle: the rank file read line by line into a std::map, independent of the vocabulary's table.
  FetchOptions cached;
  auto path = rank_file_path("cl100k_base", cached, false);
  ASSERT_TRUE(path.ok()) << path.error();
  std::ifstream in(*path, std::ios::binary);
  std::map<std::string, Rank> oracle;
  for (std::string line; std::getline(in, line);) {
    size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    auto bytes = base64_decode(std::string_view(line).substr(0, space));
    ASSERT_TRUE(bytes) << line;
    oracle.emplace(*bytes, Rank(std::stoul(line.substr(space + 1))));
  }
  ASSERT_EQ(oracle.size(), v.size());
  auto check = [&](const std::string& s) {
    auto it = oracle.find(s);
    auto r = v.find(s);
    if (it == oracle.end()) {
      EXPECT_FALSE(r) << "found a non-token: rank " << *r;
    } else {
      EXPECT_EQ(r, std::optional<Rank>(it->second)) << "missed a token of " << s.size() << " bytes";
    }
  };
  std::mt19937 rng(3);
  // Random strings (almost all misses), and near misses: every 997th token with a byte appended, its last
  // byte changed, its last byte dropped (the latter two often tokens themselves).
  for (int i = 0; i < 20000; ++i) check(testing::random_bytes(rng, 30));
  size_t k = 0;
  for (const auto& [bytes, rank] : oracle) {
    if (k++ % 997 != 0) continue;
    check(bytes);
    check(bytes + char(rng()));
    std::string changed = bytes;
    changed.back() = char(changed.back() ^ (1 + rng() % 255));
    check(changed);
    check(bytes.substr(0, bytes.size() - 1));
  }
  EXPECT_FALSE(v.find(""));
}

}  // namespace
}  // namespace tokenmill
