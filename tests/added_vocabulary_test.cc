// AddedMatcher (src/added_vocabulary/added_vocabulary.h). Expectations ported from HF tokenizers'
// tokenizers/src/tokenizer/added_vocabulary.rs tests (their Lowercase normalizer left out: these cut the raw text).
#include <gtest/gtest.h>

#include "added_vocabulary/added_vocabulary.h"

namespace tokenmill::hf {
namespace {

using Seg = std::pair<std::string, int>;  // text, id or -1

std::vector<Seg> cut(const AddedMatcher& m, std::string_view text) {
  std::vector<AddedSegment> out;
  m.split(text, out);
  std::vector<Seg> r;
  for (auto& s : out)
    r.push_back({std::string(text.substr(s.range.first, s.range.second - s.range.first)), s.id ? int(*s.id) : -1});
  return r;
}

TEST(AddedMatcher, SingleWord) {  // HF test_single_word_is_correct
  AddedMatcher m({{"<mask>", 0, false, false, true}});
  EXPECT_EQ(
      cut(m, "<mask> My name <mask> A<mask> <mask>ony <mask>"),
      (std::vector<Seg>{{"<mask>", 0}, {" My name ", -1}, {"<mask>", 0}, {" A<mask> <mask>ony ", -1}, {"<mask>", 0}}));
}

TEST(AddedMatcher, SingleWordUnicode) {  // HF test_single_word_is_unicode_correct: a combining mark is a word character
  AddedMatcher m({{"<mask>", 0, false, false, true}});
  EXPECT_EQ(cut(m, "<mask>, <mask>- \u25CC\u0330<mask>"),
            (std::vector<Seg>{{"<mask>", 0}, {", ", -1}, {"<mask>", 0}, {"- \u25CC\u0330<mask>", -1}}));
}

TEST(AddedMatcher, StripUnicodeSpace) {  // HF test_lstrip_unicode_space
  AddedMatcher m({{"<mask>", 0, true, true, true}});
  EXPECT_EQ(cut(m, "Hi <mask> there\t<mask>\t<mask>\u2000"),
            (std::vector<Seg>{{"Hi", -1}, {" <mask> ", 0}, {"there", -1}, {"\t<mask>\t", 0}, {"<mask>\u2000", 0}}));
}

TEST(AddedMatcher, LeftmostLongest) {
  AddedMatcher m(
      {{"<a>", 0, false, false, false}, {"<a><b>", 1, false, false, false}, {"a><b", 2, false, false, false}});
  // Both start-at-0 tokens match; the longer wins. "a><b" starts later, so it loses though it is found too.
  EXPECT_EQ(cut(m, "x<a><b>y<a>"), (std::vector<Seg>{{"x", -1}, {"<a><b>", 1}, {"y", -1}, {"<a>", 0}}));
  EXPECT_EQ(cut(m, ""), (std::vector<Seg>{{"", -1}}));
}

TEST(AddedMatcher, WordCharacters) {
  EXPECT_TRUE(is_word_char('a'));
  EXPECT_TRUE(is_word_char('_'));
  EXPECT_TRUE(is_word_char('7'));
  EXPECT_TRUE(is_word_char(0x0330));   // Mn
  EXPECT_TRUE(is_word_char(0x2160));   // Ⅰ: Nl, Alphabetic
  EXPECT_FALSE(is_word_char(0x00B2));  // ²: No, not \w
  EXPECT_FALSE(is_word_char('-'));
  EXPECT_FALSE(is_word_char(' '));
}

}  // namespace
}  // namespace tokenmill::hf
