#include "tokenmill/bpe.h"

#include <algorithm>
#include <cstdint>
#include <queue>

namespace tokenmill {

namespace {

// Below this length the O(n^2) scan over a stack array beats the heap (measured on cl100k and o200k:
// real pieces that miss the whole-piece lookup are almost all under 32 bytes).
constexpr size_t kSmallPieceLimit = 128;

}  // namespace

void byte_pair_encode_small(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out.push_back(vocab.find_or_none(piece));
    return;
  }
  // start[i] is where part i begins; rank[i] is the rank of merging part i with part i+1.
  uint32_t start_buf[kSmallPieceLimit + 1];
  Rank rank_buf[kSmallPieceLimit + 1];
  std::vector<uint32_t> start_heap;
  std::vector<Rank> rank_heap;
  uint32_t* start = start_buf;
  Rank* rank = rank_buf;
  if (n > kSmallPieceLimit) {  // only reached when a test forces this path on a long piece
    start_heap.resize(n + 1);
    rank_heap.resize(n + 1);
    start = start_heap.data();
    rank = rank_heap.data();
  }
  size_t parts = n;
  for (size_t i = 0; i <= n; ++i) start[i] = uint32_t(i);
  auto pair_rank = [&](size_t i) -> Rank {  // parts i and i+1 merged
    if (i + 2 > parts) return kNoRank;
    return vocab.find_or_none(piece.substr(start[i], start[i + 2] - start[i]));
  };
  for (size_t i = 0; i + 1 < parts; ++i) rank[i] = pair_rank(i);
  rank[parts - 1] = kNoRank;
  while (parts > 1) {
    Rank best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts; ++i) {
      if (rank[i] < best) {
        best = rank[i];
        at = i;
      }
    }
    if (best == kNoRank) break;
    // Remove the boundary start[at+1]; parts at and at+1 become one.
    std::copy(start + at + 2, start + parts + 1, start + at + 1);
    std::copy(rank + at + 2, rank + parts, rank + at + 1);
    --parts;
    rank[at] = pair_rank(at);
    if (at > 0) rank[at - 1] = pair_rank(at - 1);
  }
  for (size_t i = 0; i < parts; ++i) out.push_back(vocab.find_or_none(piece.substr(start[i], start[i + 1] - start[i])));
}

void byte_pair_encode_large(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  // A doubly linked list of parts, indexed by each part's first byte; `next` of a part is the start of
  // the following part (n at the end).
  std::vector<size_t> next(n), prev(n);
  std::vector<Rank> pair(n, kNoRank);  // rank of merging the part starting here with its successor
  struct Candidate {
    Rank rank;
    size_t start;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : start > o.start; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i - 1;  // wraps for i == 0; never read there
  }
  auto update = [&](size_t s) {
    size_t mid = next[s];
    if (mid >= n) {
      pair[s] = kNoRank;
      return;
    }
    pair[s] = vocab.find_or_none(piece.substr(s, next[mid] - s));
    if (pair[s] != kNoRank) heap.push({pair[s], s});
  };
  for (size_t i = 0; i + 1 < n; ++i) update(i);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    // Stale entries: the part at c.start was absorbed (pair reset to kNoRank) or its successor changed
    // (pair recomputed; a different successor means different bytes, hence a different rank).
    if (pair[c.start] != c.rank) continue;
    const size_t s = c.start;
    const size_t right = next[s];
    next[s] = next[right];
    pair[right] = kNoRank;
    if (next[s] < n) prev[next[s]] = s;
    update(s);
    if (s > 0) update(prev[s]);
  }
  for (size_t i = 0; i < n; i = next[i]) out.push_back(vocab.find_or_none(piece.substr(i, next[i] - i)));
}

void byte_pair_encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  if (piece.size() <= kSmallPieceLimit) {
    byte_pair_encode_small(vocab, piece, out);
  } else {
    byte_pair_encode_large(vocab, piece, out);
  }
}

}  // namespace tokenmill
