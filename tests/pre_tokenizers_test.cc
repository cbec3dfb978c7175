// Split behaviours and the HF regex adapter (src/pre_tokenizers/). Expectations ported from HF tokenizers'
// normalizer.rs `split` test and pre_tokenizers/split.rs tests.
#include <gtest/gtest.h>

#include "pre_tokenizers/pre_tokenizer.h"

namespace tokenmill::hf {
namespace {

std::vector<std::string> pieces(const PreTokenizer& p, std::string_view text) {
  std::vector<Offsets> splits{{0, uint32_t(text.size())}};
  Status s = p.pre_tokenize(text, splits);
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<std::string> out;
  for (auto [b, e] : splits) out.emplace_back(text.substr(b, e - b));
  return out;
}

using V = std::vector<std::string>;

TEST(Split, BehavioursOnALiteral) {  // HF normalizer.rs `split`
  auto make = [](SplitBehavior b) { return std::move(make_split_string("-", b, false)).value(); };
  const char* s = "The-final--countdown";
  EXPECT_EQ(pieces(*make(SplitBehavior::kRemoved), s), (V{"The", "final", "countdown"}));
  EXPECT_EQ(pieces(*make(SplitBehavior::kIsolated), s), (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pieces(*make(SplitBehavior::kMergedWithPrevious), s), (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(pieces(*make(SplitBehavior::kMergedWithNext), s), (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(pieces(*make(SplitBehavior::kContiguous), s), (V{"The", "-", "final", "--", "countdown"}));
}

TEST(Split, RegexInvert) {  // HF split.rs: invert keeps what matched
  auto re = HfRegex::compile(R"(\w+|[^\w\s]+)");
  EXPECT_FALSE(re.ok());  // \w is refused: Oniguruma's and PCRE2's differ
  auto words = HfRegex::compile(R"(\p{L}+)");
  ASSERT_TRUE(words.ok()) << words.error();
  auto p = make_split_regex(std::move(words).value(), SplitBehavior::kRemoved, true);
  EXPECT_EQ(pieces(*p, "How are you doing?"), (V{"How", "are", "you", "doing"}));
}

TEST(HfRegex, Unicode16Letters) {
  // U+1E4D0 (Nag Mundari, Unicode 15.0) and U+1C89 (Unicode 16.0) are letters for HF; older PCRE2 tables
  // would cut the word there.
  auto re = HfRegex::compile(R"(\p{L}+)");
  ASSERT_TRUE(re.ok());
  auto p = make_split_regex(std::move(re).value(), SplitBehavior::kIsolated, false);
  EXPECT_EQ(pieces(*p, "a\U0001E4D0b\u1C89c d"), (V{"a\U0001E4D0b\u1C89c", " ", "d"}));
}

TEST(HfRegex, WhiteSpaceIsTheProperty) {
  auto re = HfRegex::compile(R"(\s+)");
  ASSERT_TRUE(re.ok());
  auto p = make_split_regex(std::move(re).value(), SplitBehavior::kIsolated, false);
  // U+0085 is White_Space; U+180E is not (since Unicode 6.3).
  EXPECT_EQ(pieces(*p, "a\u0085b\u180Ec"), (V{"a", "\u0085", "b\u180Ec"}));
}

TEST(HfRegex, EmptyMatchesFollowOniguruma) {
  // x* matches empty between characters; which empty matches Oniguruma's iterator reports shows in the
  // merging behaviours. Expected pieces: HF tokenizers 0.23.3, Split(Regex("x*"), behavior, invert).
  auto run = [](SplitBehavior b, bool invert) {
    auto re = HfRegex::compile("x*");
    EXPECT_TRUE(re.ok());
    return pieces(*make_split_regex(std::move(re).value(), b, invert), "axxb");
  };
  EXPECT_EQ(run(SplitBehavior::kRemoved, false), (V{"a", "b"}));
  EXPECT_EQ(run(SplitBehavior::kRemoved, true), (V{"xx"}));
  EXPECT_EQ(run(SplitBehavior::kIsolated, false), (V{"a", "xx", "b"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithPrevious, false), (V{"axx", "b"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithPrevious, true), (V{"a", "xxb"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithNext, false), (V{"a", "xxb"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithNext, true), (V{"axx", "b"}));
  EXPECT_EQ(run(SplitBehavior::kContiguous, true), (V{"a", "xx", "b"}));
}

TEST(HfRegex, RefusesConstructsItCannotTranslate) {
  for (const char* p : {R"(\h)", R"([a-z&&[^aeiou]])", R"(\p{Han})", R"([[:alpha:][x]])"}) {
    EXPECT_FALSE(HfRegex::compile(p).ok()) << p;
  }
  auto bad = HfRegex::compile("(");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("offset"), std::string::npos) << bad.error();
}

TEST(ByteLevel, Alphabet) {
  EXPECT_EQ(byte_level_char(' '), "\u0120");
  EXPECT_EQ(byte_level_char('a'), "a");
  EXPECT_EQ(byte_level_char(0), "\u0100");
  EXPECT_EQ(byte_level_char(0xAD), "\u0143");  // the last of the remapped bytes
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_level_char(uint8_t(b));
    uint32_t cp = s.size() == 1 ? uint8_t(s[0]) : ((uint8_t(s[0]) & 0x1F) << 6) | (uint8_t(s[1]) & 0x3F);
    EXPECT_EQ(byte_level_byte(cp), b);
  }
}

}  // namespace
}  // namespace tokenmill::hf
