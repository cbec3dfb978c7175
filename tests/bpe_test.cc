// byte_pair_encode against an obviously-right reference (merge the lowest-ranked adjacent pair, leftmost
// on ties, on a vector of strings), and its two algorithms against each other.
#include "tokenmill/bpe.h"

#include <random>

#include "test_util.h"

namespace tokenmill {
namespace {

std::vector<Rank> reference_bpe(const Vocabulary& vocab, std::string_view piece) {
  std::vector<std::string> parts;
  for (char c : piece) parts.emplace_back(1, c);
  while (parts.size() > 1) {
    Rank best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto r = vocab.find(parts[i] + parts[i + 1]);
      if (r && *r < best) {
        best = *r;
        at = i;
      }
    }
    if (best == kNoRank) break;
    parts[at] += parts[at + 1];
    parts.erase(parts.begin() + long(at) + 1);
  }
  std::vector<Rank> ids;
  for (const auto& p : parts) ids.push_back(*vocab.find(p));
  return ids;
}

std::string random_piece(std::mt19937& rng, size_t len, std::string_view alphabet) {
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (size_t i = 0; i < len; ++i) s += alphabet[pick(rng)];
  return s;
}

TEST(BytePairEncode, MatchesReferenceOnRealVocabularies) {
  for (const char* name : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const Vocabulary& vocab = testing::builtin(name).ranks();
    std::mt19937 rng(42);
    std::uniform_int_distribution<size_t> len(1, 300);
    for (int i = 0; i < 1500; ++i) {
      // Small alphabets make long merge chains; the byte alphabet makes unmergeable junk.
      std::string_view alphabet = i % 3 == 0 ? "ab" : i % 3 == 1 ? "etaoin shrdlu" : "";
      std::string piece = alphabet.empty() ? testing::random_bytes(rng, 200) : random_piece(rng, len(rng), alphabet);
      if (piece.empty()) continue;
      std::vector<Rank> got;
      byte_pair_encode(vocab, piece, got);
      ASSERT_EQ(got, reference_bpe(vocab, piece)) << name << " piece: " << ::testing::PrintToString(piece);
    }
  }
}

TEST(BytePairEncode, SmallAndLargeAlgorithmsAgree) {
  const Vocabulary& vocab = testing::builtin("cl100k_base").ranks();
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> len(1, 400);
  for (int i = 0; i < 3000; ++i) {
    std::string piece = i % 2 ? random_piece(rng, len(rng), "aab c.\xe4\xb8") : testing::random_bytes(rng, 400);
    if (piece.empty()) continue;
    std::vector<Rank> small, large;
    byte_pair_encode_small(vocab, piece, small);
    byte_pair_encode_large(vocab, piece, large);
    ASSERT_EQ(small, large) << ::testing::PrintToString(piece);
  }
}

TEST(BytePairEncode, TiesGoToTheLeftmostPair) {
  // "abab" with ranks ab=256 only: both "ab" pairs tie; the leftmost merges first, then the other.
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  ranks.emplace_back("ab", 256);
  ranks.emplace_back("ba", 257);
  auto vocab = Vocabulary::from_ranks(ranks);
  ASSERT_TRUE(vocab.ok());
  for (std::string piece : {"aba", "abab", "bab", "ababa"}) {
    std::vector<Rank> small, large;
    byte_pair_encode_small(*vocab, piece, small);
    byte_pair_encode_large(*vocab, piece, large);
    EXPECT_EQ(small, reference_bpe(*vocab, piece)) << piece;
    EXPECT_EQ(large, reference_bpe(*vocab, piece)) << piece;
  }
}

TEST(BytePairEncode, NonMonotoneVocabularyKeepsExactOrder) {
  // "abc" ranks below its part "bc": merging bc creates a pair ranked lower than the merge just made, which
  // the long-piece queue must still order exactly (it falls back from its monotone mode).
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  ranks.emplace_back("abc", 256);
  ranks.emplace_back("bc", 257);
  ranks.emplace_back("ca", 258);
  ranks.emplace_back("abcabc", 259);
  auto vocab = Vocabulary::from_ranks(ranks);
  ASSERT_TRUE(vocab.ok());
  std::mt19937 rng(1);
  for (int i = 0; i < 200; ++i) {
    std::string piece = random_piece(rng, 130 + i, "abcabcx");
    std::vector<Rank> heap;
    byte_pair_encode_heap(*vocab, piece, heap);
    ASSERT_EQ(heap, reference_bpe(*vocab, piece)) << piece;
  }
  // The bucket algorithm must notice and decline; byte_pair_encode_large then still gives the exact ids.
  std::string piece;
  while (piece.size() < 20000) piece += "abcx";
  std::vector<Rank> buckets, large;
  EXPECT_FALSE(byte_pair_encode_buckets(*vocab, piece, buckets));
  EXPECT_TRUE(buckets.empty());
  byte_pair_encode_large(*vocab, piece, large);
  std::vector<Rank> expected;
  byte_pair_encode_heap(*vocab, piece, expected);
  EXPECT_EQ(large, expected);
  EXPECT_EQ(std::vector<Rank>(expected.begin(), expected.begin() + 16), reference_bpe(*vocab, piece.substr(0, 32)));
}

TEST(BytePairEncode, BucketsMatchHeapOnLongPieces) {
  for (const char* name : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const Vocabulary& vocab = testing::builtin(name).ranks();
    std::mt19937 rng(2024);
    int bucket_runs = 0;
    for (int i = 0; i < 12; ++i) {
      std::string_view alphabet = i % 4 == 0 ? "a" : i % 4 == 1 ? "ab" : i % 4 == 2 ? "etaoinshrdlu" : "";
      std::string piece = alphabet.empty() ? testing::random_bytes(rng, 40000) : random_piece(rng, 20000 + 7919 * i, alphabet);
      std::vector<Rank> heap, buckets;
      byte_pair_encode_heap(vocab, piece, heap);
      if (byte_pair_encode_buckets(vocab, piece, buckets)) {
        ++bucket_runs;
        ASSERT_EQ(buckets, heap) << name << " case " << i;
      }
    }
    EXPECT_GT(bucket_runs, 0) << name << ": the bucket path never ran, so nothing was compared";
  }
}

TEST(BytePairEncode, ChunkedMatchesHeapWithSeamsEverywhere) {
  // Tiny chunks put a seam every few bytes, so most seams need a repair window, some of them widening on
  // both sides; the whole-piece heap is the oracle (itself checked against reference_bpe above).
  for (const char* name : {"cl100k_base", "o200k_base", "r50k_base"}) {
    const Vocabulary& vocab = testing::builtin(name).ranks();
    std::mt19937 rng(99);
    size_t repaired_runs = 0, seams_that_needed_repair = 0;
    for (int i = 0; i < 300; ++i) {
      std::string_view alphabet = i % 5 == 0 ? "a" : i % 5 == 1 ? "ab" : i % 5 == 2 ? "etaoinshrdlu" : i % 5 == 3 ? " \n" : "";
      std::string piece = alphabet.empty() ? testing::random_bytes(rng, 3000) : random_piece(rng, 500 + 37 * i, alphabet);
      const size_t chunk = 1 + i % 97;
      std::vector<Rank> heap, chunked;
      byte_pair_encode_heap(vocab, piece, heap);
      std::vector<Rank> naive;  // chunks simply concatenated: how often the seams needed repairing
      for (size_t at = 0; at < piece.size(); at += chunk) byte_pair_encode_heap(vocab, std::string_view(piece).substr(at, chunk), naive);
      if (naive != heap) ++seams_that_needed_repair;
      if (byte_pair_encode_chunked(vocab, piece, chunk, chunked)) {
        ++repaired_runs;
        ASSERT_EQ(chunked, heap) << name << " case " << i << " chunk " << chunk;
      } else {
        EXPECT_TRUE(chunked.empty());
      }
    }
    EXPECT_GT(repaired_runs, 250u) << name;
    EXPECT_GT(seams_that_needed_repair, 100u) << name << ": the seams never mattered, so the repair went untested";
  }
}

TEST(BytePairEncode, ChunkedIsExactForNonMonotoneVocabulary) {
  // The seam repair assumes nothing of the vocabulary; this one has a token ranked below its own part.
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  for (auto t : {"abc", "bc", "ca", "abcabc", "cab", "ab", "bca", "aa", "aaa", "aaaa"}) ranks.emplace_back(t, Rank(ranks.size()));
  auto vocab = Vocabulary::from_ranks(ranks);
  ASSERT_TRUE(vocab.ok());
  std::mt19937 rng(5);
  for (int i = 0; i < 400; ++i) {
    std::string piece = random_piece(rng, 50 + i, i % 2 ? "abc" : "abcax");
    std::vector<Rank> chunked;
    ASSERT_TRUE(byte_pair_encode_chunked(*vocab, piece, 1 + i % 13, chunked));
    ASSERT_EQ(chunked, reference_bpe(*vocab, piece)) << piece;
  }
}

TEST(BytePairEncode, LongPiecesRoundTrip) {
  const Vocabulary& vocab = testing::builtin("o200k_base").ranks();
  for (std::string piece : {std::string(1 << 20, 'a'), std::string(1 << 20, ' '), std::string(300000, '7')}) {
    std::vector<Rank> ids;
    byte_pair_encode(vocab, piece, ids);
    std::string back;
    for (Rank r : ids) back += vocab.token_bytes(r);
    EXPECT_EQ(back, piece);
    EXPECT_LE(ids.size(), piece.size() / 2);  // each of these bytes doubled is a token: merged, not left as bytes
  }
}

}  // namespace
}  // namespace tokenmill
