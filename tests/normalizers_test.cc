// Normalizers (src/normalizers/normalizer.h): NFC against unicodedata2 16.0 (PyPI) for the
// text (values below), and HF tokenizers 0.23.3's NormalizedString alignments for the offsets.
#include <gtest/gtest.h>

#include <random>

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

namespace tokenmill::hf {
namespace {

std::string normalized(const Normalizer& n, std::string_view text) {
  NormalizedString s = NormalizedString::identity(text, 0);
  n.normalize(s);
  return s.normalized;
}

TEST(UnicodeForms, Text) {
  // Values from HF tokenizers 0.23.3's normalizers.NFD/NFKD/NFKC().normalize_str.
  EXPECT_EQ(normalized(*make_nfd_normalizer(), "\u00e9\u1e0b\u0323"), "e\u0301d\u0323\u0307");
  EXPECT_EQ(normalized(*make_nfkd_normalizer(), "\ufb01\u00bd"), "fi1\u20442");
  EXPECT_EQ(normalized(*make_nfkc_normalizer(), "\ufb01\u00bd\u1e9b\u0323"), "fi1\u20442\u1e69");
  // U+32FF (Unicode 12.1) and U+A7F2 (14.0) have compatibility decompositions that HF's Unicode 9.0
  // tables lack: HF leaves them as they are.
  EXPECT_EQ(normalized(*make_nfkc_normalizer(), "\u32ff\ua7f2"), "\u32ff\ua7f2");
}

TEST(Nfc, UnchangedMeansNfcChangesNothing) {
  // nfc_unchanged lets the ids path skip the normalizer: whenever it says so, NFC must give the text back,
  // on text dense in what NFC does (marks in and out of order, singletons, exclusions, Hangul jamo).
  const char* units[] = {"a",      "e",      " ",      "\u00e9", "\u0301", "\u0323", "\u0307",     "\u212b",
                         "\u2126", "\u0958", "\u1100", "\u1161", "\u11a8", "\uac00", "\u0f73",     "\u0b47",
                         "\u0b3e", "\u4e2d", "\u00c5", "\u0344", "\u30ab", "\u3099", "\U0001f600", "\u00df"};
  auto nfc = make_nfc_normalizer();
  std::mt19937 rng(5);
  int unchanged = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (size_t n = 1 + rng() % 4; n > 0; --n) text += units[rng() % std::size(units)];
    if (!nfc_unchanged(text)) continue;
    ++unchanged;
    ASSERT_EQ(normalized(*nfc, text), text) << ::testing::PrintToString(text);
  }
  EXPECT_GT(unchanged, 1000);  // it does answer yes: precomposed letters, CJK, emoji
  EXPECT_TRUE(nfc_unchanged("h\u00e9llo \u4e2d\u6587 \U0001f600"));
  EXPECT_FALSE(nfc_unchanged("e\u0301"));
}

TEST(Lowercase, FullMappingsWithoutContext) {
  // HF: normalizers.Lowercase().normalize_str("\u0130A\u03a3") == "i\u0307a\u03c3" (no final sigma).
  auto lower = make_lowercase_normalizer();
  NormalizedString s = NormalizedString::identity("\u0130A\u03a3", 0);
  lower->normalize(s);
  EXPECT_EQ(s.normalized, "i\u0307a\u03c3");
  // The inserted U+0307 is aligned like the 'i' before it: both come from U+0130.
  EXPECT_EQ(s.original_offsets(0, 3), (Offsets{0, 2}));
  EXPECT_EQ(s.original_offsets(3, 4), (Offsets{2, 3}));
}

TEST(Strip, Sides) {  // HF normalizer.rs `lstrip`, `rstrip`, `strip`, `strip_unicode`
  const char* text = "  This is an example  ";
  EXPECT_EQ(normalized(*make_strip_normalizer(true, false), text), "This is an example  ");
  EXPECT_EQ(normalized(*make_strip_normalizer(false, true), text), "  This is an example");
  auto both = make_strip_normalizer(true, true);
  NormalizedString s = NormalizedString::identity("  \u4f60\u597dasa \n", 5);
  both->normalize(s);
  EXPECT_EQ(s.normalized, "\u4f60\u597dasa");
  EXPECT_EQ(s.original_offsets(0, uint32_t(s.normalized.size())), (Offsets{7, 16}));
  EXPECT_EQ(normalized(*both, " \u3000 "), "");
}

TEST(Prepend, AlignedLikeTheFirstCharacter) {  // HF normalizer.rs `prepend`
  auto p = make_prepend_normalizer("Hey ");
  NormalizedString s = NormalizedString::identity("there", 0);
  p->normalize(s);
  EXPECT_EQ(s.normalized, "Hey there");
  for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(s.original_offsets(i, i + 1), (Offsets{0, 1})) << i;
  EXPECT_EQ(s.original_offsets(5, 6), (Offsets{1, 2}));
  EXPECT_EQ(normalized(*p, ""), "");  // nothing to prepend to
}

}  // namespace
}  // namespace tokenmill::hf
