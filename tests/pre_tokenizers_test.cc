// Split behaviours and the HF regex adapter (src/pre_tokenizers/). Expectations ported from HF tokenizers'
// normalizer.rs `split` test and pre_tokenizers/split.rs tests.
#include <gtest/gtest.h>

#include <random>

#include "pre_tokenizers/pre_tokenizer.h"
#include "tokenmill/pretokenize.h"
#include "util/utf8.h"

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

// DeepSeek V3's scanner (tokenmill::Pretokenizer, kDeepSeekV3) against the stage it stands in for: its three
// Splits, each Isolated, run by the HF regex adapter. Texts are built from characters at the edges of every
// class the three patterns test, and runs long enough to cross the part scanner's 16-byte blocks.
std::unique_ptr<PreTokenizer> deepseek_v3_stage() {
  std::vector<std::unique_ptr<PreTokenizer>> splits;
  for (std::string_view pattern : kDeepSeekV3Splits) {
    auto re = HfRegex::compile(pattern);
    EXPECT_TRUE(re.ok()) << re.error();
    splits.push_back(make_split_regex(std::move(re).value(), SplitBehavior::kIsolated, false));
  }
  return make_sequence_pre_tokenizer(std::move(splits));
}

std::vector<std::string> scanner_pieces(const Pretokenizer& pre, std::string_view text) {
  std::vector<std::string> out;
  EXPECT_TRUE(pre.for_each_piece(text, [&](std::string_view piece) { out.emplace_back(piece); }).ok());
  return out;
}

const std::vector<uint32_t>& deepseek_alphabet() {
  static const std::vector<uint32_t> a = [] {
    std::vector<uint32_t> v;
    for (uint32_t c = 0x21; c < 0x7F; ++c) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) v.push_back(c);  // all ASCII punctuation, digits
    }
    for (uint32_t c :
         std::initializer_list<uint32_t>{'a', 'Z', 'q', ' ', ' ', ' ', '\t', '\n', '\r', '\x0b', 0x00, 0x01, 0x7F})
      v.push_back(c);
    const uint32_t more[] = {
        0x4DFF, 0x4E00, 0x4E2D, 0x9FA5,  0x9FA6, 0x9FFF,          // split 2's ideographs and both sides of their range
        0x303F, 0x3040, 0x3041, 0x3099,  0x309B, 0x309D, 0x309F,  // Hiragana block: Cn, Lo, Mn, Sk, Lm
        0x30A0, 0x30A1, 0x30FB, 0x30FC,  0x30FF, 0x3100,          // Katakana block: Pd, Lo, Po, Lm, and past it
        0x3007, 0x3001, 0xFF10, 0xFF01,                           // 〇 (Nl), 、, fullwidth digit and punctuation
        0x0660, 0x00B2, 0x2160,                                   // Nd, No, Nl
        0x00E9, 0x01C5, 0x02B0, 0x05D0,  0xAC00,                  // letters beyond ASCII
        0x0301, 0x0903, 0x20DD,                                   // Mn Mc Me
        0x20AC, 0x00AC, 0x02C2, 0x1F600, 0x00BF, 0x2014,          // Sc Sm Sk So, Po, Pd
        0x00A0, 0x3000, 0x2028, 0x0085,  0x1680, 0x2009,          // White_Space beyond ASCII
        0x200B, 0x200D, 0xFEFF, 0xE000,  0x0378, 0x00AD,          // Cf, Co, Cn: characters no alternative matches
    };
    v.insert(v.end(), std::begin(more), std::end(more));
    return v;
  }();
  return a;
}

TEST(DeepSeekV3Scanner, MatchesItsThreeSplits) {
  auto scanner = Pretokenizer::create_split_sequence({std::begin(kDeepSeekV3Splits), std::end(kDeepSeekV3Splits)});
  ASSERT_TRUE(scanner.ok()) << scanner.error();
  ASSERT_EQ(scanner->kind(), Pretokenizer::Kind::kDeepSeekV3);
  const auto stage = deepseek_v3_stage();
  const auto& alphabet = deepseek_alphabet();
  std::mt19937 rng(2026);
  for (int i = 0; i < 30000; ++i) {
    std::string text;
    const size_t n = rng() % (i < 20000 ? 14 : 50);
    for (size_t k = 0; k < n; ++k) util::append_utf8(text, alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(scanner_pieces(*scanner, text), pieces(*stage, text)) << ::testing::PrintToString(text);
  }
  // Runs of one character around another, long enough for the 16-byte block loop to stop inside a block,
  // at its edge and past it.
  for (uint32_t a : std::initializer_list<uint32_t>{'x', ' ', '.', 0x00, 0x200B}) {
    for (uint32_t b : alphabet) {
      for (int n : {1, 15, 16, 17, 33}) {
        std::string text;
        for (int k = 0; k < n; ++k) util::append_utf8(text, a);
        util::append_utf8(text, b);
        for (int k = 0; k < n; ++k) util::append_utf8(text, a);
        ASSERT_EQ(scanner_pieces(*scanner, text), pieces(*stage, text)) << ::testing::PrintToString(text);
      }
    }
  }
}

TEST(DeepSeekV3Scanner, CutsLeaveThePiecesUnchanged) {
  // find_cut's rules (src/pretokenize/cuts.cc) were proven for single patterns; for DeepSeek V3 the reference
  // is its three Splits on the whole text against the same Splits on the parts, on texts dense in cut
  // candidates ("<x>\n<letter>", "<letter> ") next to every class the three patterns test.
  auto scanner = Pretokenizer::create_split_sequence({std::begin(kDeepSeekV3Splits), std::end(kDeepSeekV3Splits)});
  ASSERT_TRUE(scanner.ok()) << scanner.error();
  const auto stage = deepseek_v3_stage();
  const auto& alphabet = deepseek_alphabet();
  std::mt19937 rng(77);
  size_t checked = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    while (text.size() < 24) {
      util::append_utf8(text, alphabet[rng() % alphabet.size()]);
      if (rng() % 3 == 0) {
        util::append_utf8(text, alphabet[rng() % alphabet.size()]);
        text += rng() % 2 ? "\nT" : "a ";
      }
    }
    const auto whole = pieces(*stage, text);
    for (size_t c = 0; (c = scanner->find_cut(text, c, text.size())) != std::string_view::npos; ++c) {
      auto parts = pieces(*stage, text.substr(0, c));
      for (auto& p : pieces(*stage, text.substr(c))) parts.push_back(std::move(p));
      ASSERT_EQ(parts, whole) << "cut at " << c << " of " << ::testing::PrintToString(text);
      ++checked;
    }
  }
  EXPECT_GT(checked, 10000u);  // the generator really makes cuts
}

TEST(DeepSeekV3Scanner, OnlyItsOwnSequence) {
  // The patterns in another order are not the same pre-tokenizer: no scanner, never a wrong one.
  std::vector<std::string_view> swapped = {kDeepSeekV3Splits[1], kDeepSeekV3Splits[0], kDeepSeekV3Splits[2]};
  auto other = Pretokenizer::create_split_sequence(swapped);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tokenmill::hf
