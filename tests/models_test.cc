// BpeModel (src/models/model.h). Expectations ported from HF tokenizers' own BPE tests
// (tokenizers/src/models/bpe/model.rs) where they exist; the rest are properties of HF's algorithm.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "models/model.h"
#include "random_bpe.h"

namespace tokenmill::hf {
namespace {

struct Tok {
  uint32_t id, begin, end;
  bool operator==(const Tok&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Tok& t) {
  return os << "{" << t.id << ", " << t.begin << ", " << t.end << "}";
}

std::vector<Tok> run(const BpeModel& m, std::string_view piece) {
  std::vector<ModelToken> out;
  m.tokenize(piece, out);
  std::vector<Tok> r;
  for (auto& t : out) r.push_back({t.id, t.begin, t.end});
  return r;
}

BpeModel make(BpeConfig c) {
  auto m = BpeModel::create(std::move(c));
  EXPECT_TRUE(m.ok()) << m.error();
  return std::move(m).value();
}

TEST(BpeModel, UnknownNotFused) {  // HF test_unk_not_fused
  BpeConfig c;
  c.vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}};
  c.unk_token = "<unk>";
  auto m = make(c);
  EXPECT_EQ(run(m, "c"), (std::vector<Tok>{{0, 0, 1}}));
  EXPECT_EQ(run(m, "cc"), (std::vector<Tok>{{0, 0, 1}, {0, 1, 2}}));
  EXPECT_EQ(run(m, "accb"), (std::vector<Tok>{{1, 0, 1}, {0, 1, 2}, {0, 2, 3}, {2, 3, 4}}));
}

TEST(BpeModel, UnknownFused) {  // HF test_unk_get_fused
  BpeConfig c;
  c.vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}};
  c.unk_token = "<unk>";
  c.fuse_unk = true;
  auto m = make(c);
  EXPECT_EQ(run(m, "c"), (std::vector<Tok>{{0, 0, 1}}));
  EXPECT_EQ(run(m, "cc"), (std::vector<Tok>{{0, 0, 2}}));
  EXPECT_EQ(run(m, "accb"), (std::vector<Tok>{{1, 0, 1}, {0, 1, 3}, {2, 3, 4}}));
}

TEST(BpeModel, ByteFallback) {  // HF test_bpe_byte_fallback
  BpeConfig c;
  c.vocab = {{"<unk>", 0}, {"<0x61>", 1}};
  c.unk_token = "<unk>";
  c.byte_fallback = true;
  auto m = make(c);
  EXPECT_EQ(run(m, "c"), (std::vector<Tok>{{0, 0, 1}}));
  EXPECT_EQ(run(m, "a"), (std::vector<Tok>{{1, 0, 1}}));
}

TEST(BpeModel, ByteFallbackAllBytesOrNone) {
  // "é" is C3 A9: with only <0xC3> in the vocab the character is unknown as a whole.
  BpeConfig c;
  c.vocab = {{"<unk>", 0}, {"<0xC3>", 1}, {"<0xA9>", 2}, {"<0xE2>", 3}};
  c.unk_token = "<unk>";
  c.byte_fallback = true;
  auto m = make(c);
  EXPECT_EQ(run(m, "é"), (std::vector<Tok>{{1, 0, 1}, {2, 1, 2}}));
  EXPECT_EQ(run(m, "€"), (std::vector<Tok>{{0, 0, 3}}));  // E2 82 AC: 82 and AC missing
}

TEST(BpeModel, ContinuingSubwordPrefix) {  // HF test_bpe_with_continuing_subword_prefix
  BpeConfig c;
  c.vocab = {{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}, {"[UNK]", 5}};
  c.merges = {{"a", "##b"}, {"ab", "##c"}};
  c.unk_token = "[UNK]";
  c.continuing_subword_prefix = "##";
  auto m = make(c);
  EXPECT_EQ(run(m, "ab"), (std::vector<Tok>{{3, 0, 2}}));
  EXPECT_EQ(run(m, "abc"), (std::vector<Tok>{{4, 0, 3}}));
}

TEST(BpeModel, IgnoreMerges) {  // HF test_ignore_merges
  BpeConfig c;
  c.vocab = {{".:.:", 0}, {"Ġbelirtilen", 1}, {".", 2},          {":", 3},      {"bel", 4},   {"irtilen", 5},
             {"Ġ", 6},    {".:", 7},          {"belirtilen", 8}, {".:.", 9},    {"be", 10},   {"l", 11},
             {"ir", 12},  {"ti", 13},         {"en", 14},        {"irtil", 15}, {"irti", 16}, {"i", 17},
             {"r", 18},   {"t", 19},          {"b", 20},         {"e", 21},     {"n", 22}};
  c.merges = {{".", ":"}, {"b", "e"}, {"be", "l"}, {"i", "r"}, {"t", "i"}, {"ir", "ti"}, {"e", "n"}, {"irti", "l"}};
  c.ignore_merges = true;
  auto m = make(c);
  EXPECT_EQ(run(m, ".:.:"), (std::vector<Tok>{{0, 0, 4}}));
  EXPECT_EQ(run(m, "Ġbelirtilen"), (std::vector<Tok>{{1, 0, 12}}));  // Ġ is 2 bytes
  c.ignore_merges = false;
  auto plain = make(c);
  EXPECT_EQ(run(plain, ".:.:"), (std::vector<Tok>{{7, 0, 2}, {7, 2, 4}}));
  EXPECT_EQ(run(plain, "Ġbelirtilen"), (std::vector<Tok>{{6, 0, 2}, {4, 2, 5}, {15, 5, 10}, {14, 10, 12}}));
}

TEST(BpeModel, OnlyListedPairsMerge) {
  // "ab" is a token but (a, b) is no merge: the pieces stay apart (tiktoken's rule would merge them).
  BpeConfig c;
  c.vocab = {{"a", 0}, {"b", 1}, {"ab", 2}};
  auto m = make(c);
  EXPECT_EQ(run(m, "ab"), (std::vector<Tok>{{0, 0, 1}, {1, 1, 2}}));
}

TEST(BpeModel, PriorityIsMergeIndexLeftmostOnTies) {
  BpeConfig c;
  c.vocab = {{"a", 0}, {"b", 1}, {"ab", 2}, {"ba", 3}, {"aa", 4}};
  c.merges = {{"b", "a"}, {"a", "b"}, {"a", "a"}};
  auto m = make(c);
  // "aba": (b,a) is listed first, so it wins over the leftmost (a,b).
  EXPECT_EQ(run(m, "aba"), (std::vector<Tok>{{0, 0, 1}, {3, 1, 3}}));
  // "aaa": ties go left.
  EXPECT_EQ(run(m, "aaa"), (std::vector<Tok>{{4, 0, 2}, {0, 2, 3}}));
}

TEST(BpeModel, ByteLevelReadsBytes) {
  // Tokens in GPT-2's alphabet: "Ġ" is the byte ' ', "Ã©" the two bytes of "é".
  BpeConfig c;
  c.vocab = {{"Ġ", 0}, {"Ã", 1}, {"©", 2}, {"Ã©", 3}, {"ĠÃ©", 4}};
  c.merges = {{"Ã", "©"}, {"Ġ", "Ã©"}};
  c.byte_level = true;
  auto m = make(c);
  EXPECT_EQ(run(m, " é"), (std::vector<Tok>{{4, 0, 3}}));
  EXPECT_EQ(*m.id_to_token(4), "ĠÃ©");
}

TEST(BpeModel, LoadErrorsNameTheMerge) {
  BpeConfig c;
  c.vocab = {{"a", 0}, {"b", 1}};
  c.merges = {{"a", "b"}};  // "ab" is missing
  auto m = BpeModel::create(c);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("model.merges[0]"), std::string::npos) << m.error();
  EXPECT_NE(m.error().find("'ab'"), std::string::npos) << m.error();
  c.merges = {{"a", "c"}};
  m = BpeModel::create(c);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("'c' is not in the vocab"), std::string::npos) << m.error();
  c.merges = {};
  c.vocab = {{"a", 0}, {"b", 0}};
  m = BpeModel::create(c);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("id 0"), std::string::npos) << m.error();
}

TEST(BpeModel, IdsFarApartLoadAndMapBack) {
  // tokenizer.json ids are any u32; a file with one huge id must neither fail nor allocate an array that size.
  BpeConfig c;
  c.vocab = {{"a", 0}, {"b", 4000000000u}, {"ab", 7}};
  c.merges = {{"a", "b"}};
  auto m = make(c);
  EXPECT_EQ(run(m, "ab"), (std::vector<Tok>{{7, 0, 2}}));
  EXPECT_EQ(run(m, "ba"), (std::vector<Tok>{{4000000000u, 0, 1}, {0, 1, 2}}));
  EXPECT_EQ(m.id_to_token(4000000000u), "b");
  EXPECT_EQ(m.id_to_token(7), "ab");
  EXPECT_FALSE(m.id_to_token(5).has_value());
  EXPECT_FALSE(m.id_to_token(4000000001u).has_value());
  c.vocab.push_back({"c", 4000000000u});
  auto dup = BpeModel::create(c);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().find("id 4000000000 is given to both 'b' and 'c'"), std::string::npos) << dup.error();
}

TEST(BpeModel, ShortBytePiecesMergeAsTheHeapDoes) {
  // tokenize_ids takes byte-level pieces of up to kShortPiece bytes through a scan of byte pair ranks
  // instead of the unit path (tokenize); on random merge lists (out-of-order pairs, several pairs making one
  // token) the ids must be the unit path's, for pieces on both sides of the length where the paths part
  // (EveryPieceLengthMergesByTheDefinition checks the unit path itself).
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    testing::RandomBpe r = testing::random_byte_level_bpe(seed, 60);
    BpeConfig c;
    c.vocab.assign(r.vocab.begin(), r.vocab.end());
    c.merges.assign(r.merges.begin(), r.merges.end());
    c.byte_level = true;
    c.ignore_merges = seed % 2 == 0;
    auto m = make(c);
    std::mt19937 rng(seed);
    for (int i = 0; i < 300; ++i) {
      std::string piece(1 + rng() % 40, ' ');
      for (char& ch : piece) ch = "ab c"[rng() % 4];
      std::vector<uint32_t> heap;
      for (const Tok& t : run(m, piece)) heap.push_back(t.id);
      std::vector<uint32_t> ids;
      m.tokenize_ids(piece, ids);
      ASSERT_EQ(ids, heap) << "seed " << seed << " piece '" << piece << "'";
    }
  }
}

// BPE by its definition, on strings: while some adjacent pair is listed, merge the earliest-listed one,
// leftmost on ties. `units` are the piece's starting symbols (tokens as tokenizer.json writes them).
std::vector<uint32_t> definition_bpe(const testing::RandomBpe& r, std::vector<std::string> units) {
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (size_t i = 0; i < r.merges.size(); ++i) rank.emplace(r.merges[i], i);  // a repeated pair keeps its first rank
  std::map<std::string, uint32_t> id;
  for (const auto& [tok, i] : r.vocab) id.emplace(tok, i);
  for (;;) {
    size_t best = units.size(), best_rank = SIZE_MAX;
    for (size_t i = 0; i + 1 < units.size(); ++i) {
      auto it = rank.find({units[i], units[i + 1]});
      if (it != rank.end() && it->second < best_rank) best = i, best_rank = it->second;
    }
    if (best == units.size()) break;
    units[best] += units[best + 1];
    units.erase(units.begin() + long(best) + 1);
  }
  std::vector<uint32_t> ids;
  for (const std::string& u : units) ids.push_back(id.at(u));
  return ids;
}

TEST(BpeModel, EveryPieceLengthMergesByTheDefinition) {
  // Short runs of units take a scan of the pair ranks, long ones the heap; both must give BPE as defined,
  // on both sides of every length where the paths part, for bytes and for characters.
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    const bool chars = seed % 2 == 0;
    testing::RandomBpe r = chars ? testing::random_character_bpe(seed, 60, {"a", "b", "\u2581", "c"}, false)
                                 : testing::random_byte_level_bpe(seed, 60);
    BpeConfig c;
    c.vocab.assign(r.vocab.begin(), r.vocab.end());
    c.merges.assign(r.merges.begin(), r.merges.end());
    c.byte_level = !chars;
    auto m = make(c);
    std::mt19937 rng(seed);
    for (int i = 0; i < 400; ++i) {
      const size_t n = 1 + rng() % 150;
      std::string piece;
      std::vector<std::string> units;
      for (size_t k = 0; k < n; ++k) {
        const std::string unit =
            chars ? std::vector<std::string>{"a", "b", "\u2581", "c"}[rng() % 4] : std::string(1, "ab c"[rng() % 4]);
        piece += unit;
        units.push_back(chars ? unit : testing::byte_level(unit));
      }
      std::vector<uint32_t> ids;
      for (const Tok& t : run(m, piece)) ids.push_back(t.id);
      ASSERT_EQ(ids, definition_bpe(r, units)) << "seed " << seed << " piece '" << piece << "'";
    }
  }
}

}  // namespace
}  // namespace tokenmill::hf
