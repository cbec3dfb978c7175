// Split behaviours and the HF regex adapter (src/pre_tokenizers/). Expectations ported from HF tokenizers'
// normalizer.rs `split` test and pre_tokenizers/split.rs tests.
#include <gtest/gtest.h>

#include "pre_tokenizers/pre_tokenizer.h"

namespace tokenmill::hf {
namespace {

// Pieces with their offsets into the original text.
std::vector<std::pair<std::string, Offsets>> with_offsets(const PreTokenizer& p, std::string_view text) {
  std::vector<Offsets> splits{{0, uint32_t(text.size())}};
  NormalizedString ns = NormalizedString::identity(text, 0);
  Status s = p.pre_tokenize(ns, splits);
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<std::pair<std::string, Offsets>> out;
  for (auto [b, e] : splits) out.push_back({ns.normalized.substr(b, e - b), ns.original_offsets(b, e)});
  return out;
}

std::vector<std::string> pieces(const PreTokenizer& p, std::string_view text) {
  std::vector<Offsets> splits{{0, uint32_t(text.size())}};
  NormalizedString ns = NormalizedString::identity(text, 0);
  Status s = p.pre_tokenize(ns, splits);
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<std::string> out;
  for (auto [b, e] : splits) out.emplace_back(ns.normalized.substr(b, e - b));
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

// Values from HF tokenizers 0.23.3's pre_tokenize_str (pieces and original offsets).
using P = std::vector<std::pair<std::string, Offsets>>;

TEST(Metaspace, PrependSchemesAndSplit) {
  auto always = std::move(make_metaspace("\u2581", PrependScheme::kAlways, true)).value();
  EXPECT_EQ(with_offsets(*always, "Hey  friend"),
            (P{{"\u2581Hey", {0, 3}}, {"\u2581", {3, 4}}, {"\u2581friend", {4, 11}}}));
  auto never = std::move(make_metaspace("\u2581", PrependScheme::kNever, true)).value();
  EXPECT_EQ(with_offsets(*never, " Hey friend"), (P{{"\u2581Hey", {0, 4}}, {"\u2581friend", {4, 11}}}));
  auto whole = std::move(make_metaspace("\u2581", PrependScheme::kAlways, false)).value();
  EXPECT_EQ(with_offsets(*whole, "Hey friend"), (P{{"\u2581Hey\u2581friend", {0, 10}}}));
  EXPECT_TRUE(always->edits_text());
}

TEST(Digits, IndividualOrContiguous) {
  auto one = std::move(make_digits(true)).value();
  EXPECT_EQ(pieces(*one, "a12\u0663"), (V{"a", "1", "2", "\u0663"}));
  auto runs = std::move(make_digits(false)).value();
  EXPECT_EQ(pieces(*runs, "a12\u0663b"), (V{"a", "12\u0663", "b"}));
}

TEST(Whitespace, WordRunsAndOtherRuns) {
  // U+200D (Join_Control) is a word character for Rust regex's \w.
  EXPECT_EQ(with_offsets(*make_whitespace(), "Hey man!!, a\u200db"),
            (P{{"Hey", {0, 3}}, {"man", {4, 7}}, {"!!,", {7, 10}}, {"a\u200db", {11, 16}}}));
  auto split = std::move(make_whitespace_split()).value();
  EXPECT_EQ(pieces(*split, "a\u00a0b  c!"), (V{"a", "b", "c!"}));
}

TEST(Punctuation, Behaviours) {
  auto isolated = std::move(make_punctuation(SplitBehavior::kIsolated)).value();
  EXPECT_EQ(pieces(*isolated, "Hey, you?!"), (V{"Hey", ",", " you", "?", "!"}));
  auto contiguous = std::move(make_punctuation(SplitBehavior::kContiguous)).value();
  EXPECT_EQ(pieces(*contiguous, "Hey, you?!"), (V{"Hey", ",", " you", "?!"}));
}

TEST(ByteLevel, AddPrefixSpace) {
  // HF shows the pieces in the byte alphabet ("\u0120ab\u0120cd"); tokenmill keeps bytes until the model.
  auto bl = std::move(make_byte_level(true, false)).value();
  EXPECT_EQ(with_offsets(*bl, "ab cd"), (P{{" ab cd", {0, 5}}}));
  auto spaced = std::move(make_byte_level(true, false)).value();
  EXPECT_EQ(with_offsets(*spaced, " ab"), (P{{" ab", {0, 3}}}));
}

}  // namespace
}  // namespace tokenmill::hf
