// Normalizers (src/normalizers/normalizer.h): NFC against unicodedata2 16.0 (PyPI) for the
// text (values below), and HF tokenizers 0.23.3's NormalizedString alignments for the offsets.
#include <gtest/gtest.h>

#include "normalizers/normalizer.h"

namespace tokenmill::hf {
namespace {

TEST(Nfc, Text) {
  auto nfc = make_nfc_normalizer();
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"e\u0301", "\u00e9"},
      {"\u1e0b\u0323", "\u1e0d\u0307"},   // reordered, then composed with the lower mark
      {"a\u0327\u0301", "\u00e1\u0327"},  // the acute passes the cedilla (class 202 < 230)
      {"\u212b", "\u00c5"},               // singleton
      {"\u0958", "\u0915\u093c"},         // composition exclusion
      {"\u1100\u1161\u11a8", "\uac01"},   // Hangul L V T
      {"x\u0344y", "\u1e8d\u0301y"},      // non-starter decomposition, then x + diaeresis composes
      {"plain ascii", "plain ascii"},
  };
  for (const auto& c : cases) {
    NormalizedString s = NormalizedString::identity(c.in, 0);
    nfc->normalize(s);
    EXPECT_EQ(s.normalized, c.out) << c.in;
  }
}

TEST(Nfc, AlignmentsPointIntoTheOriginal) {
  auto nfc = make_nfc_normalizer();
  // "ae\u0301b": é (2 bytes) comes from 'e' and the mark; HF aligns it to 'e' alone (1, 2).
  NormalizedString s = NormalizedString::identity("ae\u0301b", 10);
  nfc->normalize(s);
  ASSERT_EQ(s.normalized, "a\u00e9b");
  EXPECT_EQ(s.original_offsets(0, 1), (Offsets{10, 11}));
  EXPECT_EQ(s.original_offsets(1, 3), (Offsets{11, 12}));
  EXPECT_EQ(s.original_offsets(3, 4), (Offsets{14, 15}));
  // Identity keeps a token inside a character on the whole character.
  NormalizedString id = NormalizedString::identity("x\u00e9", 0);
  EXPECT_EQ(id.original_offsets(1, 2), (Offsets{1, 3}));
}

}  // namespace
}  // namespace tokenmill::hf

namespace tokenmill::hf {
namespace {

TEST(Replace, LiteralAndRegex) {
  // Values from HF tokenizers 0.23.3: normalizers.Replace(' ', '\u2581') on "a b  c", and
  // normalizers.Replace(Regex(r'\s+'), '-') on "a \t b".
  auto lit = HfRegex::compile(escape_literal(" "));
  ASSERT_TRUE(lit.ok());
  auto r = make_replace_normalizer(std::move(lit).value(), "\u2581");
  NormalizedString s = NormalizedString::identity("a b  c", 0);
  r->normalize(s);
  EXPECT_EQ(s.normalized, "a\u2581b\u2581\u2581c");
  // Each byte of a replacement is aligned like the space it replaced (HF's offsets for these tokens, seen
  // through a BPE tokenizer with this normalizer: (1, 2) and (4, 5)).
  EXPECT_EQ(s.original_offsets(1, 4), (Offsets{1, 2}));
  EXPECT_EQ(s.original_offsets(8, 11), (Offsets{4, 5}));
  auto re = HfRegex::compile(R"(\s+)");
  ASSERT_TRUE(re.ok());
  auto r2 = make_replace_normalizer(std::move(re).value(), "-");
  NormalizedString t = NormalizedString::identity("a \t b", 0);
  r2->normalize(t);
  EXPECT_EQ(t.normalized, "a-b");
  EXPECT_EQ(t.original_offsets(1, 2), (Offsets{3, 4}));  // like the last byte of the match (HF: (3, 4))
}

}  // namespace
}  // namespace tokenmill::hf
