// Tekken files (include/tokenmill/tekken.h). Ids against mistral-common itself are in
// tests/differential/test_tekken.py; here, small files written by the test check the layout rules
// mistral-common's Tekkenizer applies (special tokens first, fillers, the vocabulary cut) and that each
// malformed field is an error naming it.
#include "tokenmill/tekken.h"

#include <gtest/gtest.h>

#include <string>

#include "tokenmill/vocab.h"

namespace tokenmill {
namespace {

// The 256 single bytes, then "ab" (rank 256) and "abc" (rank 257).
std::string vocab_json(size_t extra_tokens = 2) {
  std::string v = "[";
  auto entry = [&](size_t rank, const std::string& bytes) {
    if (rank) v += ",";
    v += R"({"rank":)" + std::to_string(rank) + R"(,"token_bytes":")" + base64_encode(bytes) + R"(","token_str":null})";
  };
  for (int b = 0; b < 256; ++b) entry(size_t(b), std::string(1, char(b)));
  const char* extra[] = {"ab", "abc"};
  for (size_t i = 0; i < extra_tokens; ++i) entry(256 + i, extra[i]);
  return v + "]";
}

std::string tekken_json(const std::string& version, size_t vocab_size, size_t num_special,
                        const std::string& specials = "", const std::string& vocab = vocab_json()) {
  std::string j = R"({"config":{"pattern":"\\p{L}+|\\p{N}|\\s+|[^\\s\\p{L}\\p{N}]+","version":")" + version +
                  R"(","default_vocab_size":)" + std::to_string(vocab_size) + R"(,"default_num_special_tokens":)" +
                  std::to_string(num_special) + "},";
  if (!specials.empty()) j += R"("special_tokens":)" + specials + ",";
  return j + R"("vocab":)" + vocab + "}";
}

TEST(Tekken, IdsAreRanksOffsetBySpecialTokensAndBosEosAreSpecials) {
  auto t = Tekken::from_string(tekken_json("v3", 30 + 258, 30));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->num_special_tokens(), 30u);
  EXPECT_EQ(t->vocab_size(), 288u);
  // v3 lists no special tokens: mistral-common's twenty, then <SPECIAL_20>...
  EXPECT_EQ(t->special_token(1), "<s>");
  EXPECT_EQ(t->special_token(19), "[TOOL_CONTENT]");
  EXPECT_EQ(t->special_token(20), "<SPECIAL_20>");
  EXPECT_EQ(*t->encode("abc", false, false), (std::vector<uint32_t>{257 + 30}));
  EXPECT_EQ(*t->encode("x ab", true, true), (std::vector<uint32_t>{1, 'x' + 30, ' ' + 30, 256 + 30, 2}));
  // Special-token text is ordinary text.
  EXPECT_EQ(t->encode("<s>", false, false)->size(), 3u);
}

TEST(Tekken, TheVocabularyIsCutAtVocabSizeLessSpecials) {
  auto t = Tekken::from_string(tekken_json("v3", 30 + 257, 30));  // "abc" (rank 257) is cut
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t->encode("abc", false, false), (std::vector<uint32_t>{256 + 30, 'c' + 30}));
}

TEST(Tekken, DecodePoliciesFollowMistralCommon) {
  auto t = Tekken::from_string(tekken_json("v3", 30 + 258, 30));
  ASSERT_TRUE(t.ok()) << t.error();
  const std::vector<uint32_t> ids = {1, 256 + 30, 2, 0xC3 + 30, 0xA9 + 30};
  EXPECT_EQ(*t->decode(ids), "ab\xC3\xA9");
  EXPECT_EQ(*t->decode(ids, Tekken::SpecialTokenPolicy::kKeep), "<s>ab</s>\xC3\xA9");
  EXPECT_FALSE(t->decode(ids, Tekken::SpecialTokenPolicy::kRaise).ok());
  // Runs between special tokens are decoded on their own: a character split by one is two U+FFFD.
  EXPECT_EQ(*t->decode(std::vector<uint32_t>{0xC3 + 30, 5, 0xA9 + 30}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  auto bad = t->decode(std::vector<uint32_t>{288});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("id 288"), std::string::npos) << bad.error();
}

TEST(Tekken, ListedSpecialTokensArePaddedWithFillers) {
  auto t = Tekken::from_string(tekken_json(
      "v13", 4 + 258, 4,
      R"([{"rank":0,"token_str":"<unk>","is_control":true},{"rank":1,"token_str":"<s>","is_control":true}])"));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->special_token(3), "<SPECIAL_3>");
  EXPECT_EQ(t->special_token_id("<s>"), 1u);
  EXPECT_FALSE(t->encode("a", false, true).ok());  // no </s> in this file
}

TEST(Tekken, MalformedFieldsAreErrorsNamingThem) {
  auto error_of = [](const std::string& json) {
    auto t = Tekken::from_string(json, "m.json");
    return t.ok() ? std::string("(loaded)") : t.error();
  };
  auto expect_names = [&](const std::string& json, const std::string& what) {
    const std::string e = error_of(json);
    EXPECT_NE(e.find("m.json"), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  };
  expect_names("{", "not valid JSON");
  expect_names(tekken_json("v99", 288, 30), "config.version");
  expect_names(tekken_json("v13", 288, 30), "special_tokens: missing");
  expect_names(tekken_json("v3", 10, 30), "default_vocab_size");
  // A count that would be billions of filler strings is refused before any is made (a fuzzer's find).
  expect_names(tekken_json("v3", 287, 9999999999999923), "default_num_special_tokens 9999999999999923");
  expect_names(tekken_json("v3", 4000000000, 3999999000), "default_num_special_tokens 3999999000");
  expect_names(tekken_json("v3", 30 + 259, 30), "default_vocab_size");  // more than the vocab holds
  expect_names(tekken_json("v13", 288, 30, R"([{"rank":1,"token_str":"<s>"}])"), "special_tokens[0].rank");
  expect_names(tekken_json("v13", 288, 30, R"([{"rank":0,"token_str":"<s>"},{"rank":1,"token_str":"<s>"}])"),
               "listed twice");
  std::string vocab = vocab_json();
  vocab.replace(vocab.find(R"("rank":7,)"), 9, R"("rank":8,)");
  expect_names(tekken_json("v3", 288, 30, "", vocab), "vocab[7].rank");
  expect_names(tekken_json("v3", 30 + 200, 30), "no token for byte");  // cut below the single bytes
}

}  // namespace
}  // namespace tokenmill
