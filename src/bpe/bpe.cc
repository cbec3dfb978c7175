#include "tokenmill/bpe.h"

#include <algorithm>
#include <cstdint>
#include <queue>

namespace tokenmill {

namespace {

// Below this length the O(n^2) scan over a stack array beats the heap (measured on cl100k and o200k:
// real pieces that miss the whole-piece lookup are almost all under 32 bytes).
constexpr size_t kSmallPieceLimit = 128;

// The merge queue of long pieces: (rank << 32 | start) keys, smallest first. A binary heap over a
// million entries spends its time in cache misses, so this is a radix heap (monotone: keys come out in
// increasing order and every push is >= the last key popped; buckets by the highest bit that differs
// from it, so pushes are appends and each key moves down a few buckets in its life). BPE is monotone for
// vocabularies whose tokens rank above their parts; a push that would break monotonicity switches the
// queue to a binary heap, so any vocabulary still gets the exact order.
class MergeQueue {
 public:
  explicit MergeQueue(size_t expected) { buckets_[64].reserve(expected); }

  void push(uint64_t key) {
    if (binary_) {
      heap_.push_back(key);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<uint64_t>());
      return;
    }
    if (key < last_) {
      switch_to_binary();
      push(key);
      return;
    }
    buckets_[bucket_of(key)].push_back(key);
    ++size_;
  }

  bool pop(uint64_t* key) {
    if (binary_) {
      if (heap_.empty()) return false;
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<uint64_t>());
      *key = heap_.back();
      heap_.pop_back();
      return true;
    }
    if (size_ == 0) return false;
    if (buckets_[0].empty()) {
      size_t i = 1;
      while (buckets_[i].empty()) ++i;
      std::vector<uint64_t>& from = buckets_[i];
      last_ = *std::min_element(from.begin(), from.end());
      for (uint64_t k : from) buckets_[bucket_of(k)].push_back(k);  // all land in lower buckets
      from.clear();
    }
    *key = buckets_[0].back();
    buckets_[0].pop_back();
    --size_;
    return true;
  }

 private:
  size_t bucket_of(uint64_t key) const { return key == last_ ? 0 : size_t(64 - __builtin_clzll(key ^ last_)); }

  void switch_to_binary() {
    binary_ = true;
    for (auto& b : buckets_) {
      heap_.insert(heap_.end(), b.begin(), b.end());
      b.clear();
      b.shrink_to_fit();
    }
    std::make_heap(heap_.begin(), heap_.end(), std::greater<uint64_t>());
  }

  std::vector<uint64_t> buckets_[65];
  std::vector<uint64_t> heap_;
  uint64_t last_ = 0;
  size_t size_ = 0;
  bool binary_ = false;
};

}  // namespace

void byte_pair_encode_small(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
  if (n == 1) {
    out.push_back(vocab.byte_rank(bytes[0]));
    return;
  }
  // Part i covers piece[start[i], start[i+1]) and is token part[i]; pair[i] is the rank of part i merged
  // with part i+1. Parts start as bytes, so part and pair ranks come from the dense byte tables; after a
  // merge the new part's rank is the pair rank just chosen, so only the two new neighbour pairs need the
  // hash table.
  uint32_t start_buf[kSmallPieceLimit + 1];
  Rank pair_buf[kSmallPieceLimit], part_buf[kSmallPieceLimit];
  std::vector<uint32_t> start_heap;
  std::vector<Rank> pair_heap, part_heap;
  uint32_t* start = start_buf;
  Rank* pair = pair_buf;
  Rank* part = part_buf;
  if (n > kSmallPieceLimit) {  // only reached when a test forces this path on a long piece
    start_heap.resize(n + 1);
    pair_heap.resize(n);
    part_heap.resize(n);
    start = start_heap.data();
    pair = pair_heap.data();
    part = part_heap.data();
  }
  for (size_t i = 0; i < n; ++i) {
    start[i] = uint32_t(i);
    part[i] = vocab.byte_rank(bytes[i]);
  }
  start[n] = uint32_t(n);
  for (size_t i = 0; i + 1 < n; ++i) pair[i] = vocab.byte_pair_rank(bytes[i], bytes[i + 1]);
  size_t parts = n;
  auto pair_rank = [&](size_t i) -> Rank {  // parts i and i+1 merged; i + 1 < parts
    return vocab.find_or_none(piece.substr(start[i], start[i + 2] - start[i]));
  };
  while (parts > 1) {
    Rank best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 1 < parts; ++i) {
      if (pair[i] < best) {
        best = pair[i];
        at = i;
      }
    }
    if (best == kNoRank) break;
    // Parts at and at+1 become one: drop boundary at+1 and the entries of part at+1.
    part[at] = best;
    std::copy(start + at + 2, start + parts + 1, start + at + 1);
    std::copy(part + at + 2, part + parts, part + at + 1);
    if (at + 2 < parts - 1) std::copy(pair + at + 2, pair + parts - 1, pair + at + 1);
    --parts;
    if (at + 1 < parts) pair[at] = pair_rank(at);
    if (at > 0) pair[at - 1] = pair_rank(at - 1);
  }
  out.insert(out.end(), part, part + parts);
}

void byte_pair_encode_large(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  if (n >= (size_t(1) << 32)) {  // heap keys pack the position into 32 bits
    byte_pair_encode_small(vocab, piece, out);
    return;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
  // A doubly linked list of parts, indexed by each part's first byte; `next` of a part is the start of
  // the following part (n at the end).
  std::vector<uint32_t> next(n), prev(n);
  std::vector<Rank> pair(n, kNoRank);  // rank of merging the part starting here with its successor
  std::vector<Rank> part(n);           // token of the part starting here
  MergeQueue queue(n);
  for (size_t i = 0; i < n; ++i) {
    next[i] = uint32_t(i + 1);
    prev[i] = uint32_t(i - 1);  // wraps for i == 0; never read there
    part[i] = vocab.byte_rank(bytes[i]);
    if (i + 1 < n) {
      pair[i] = vocab.byte_pair_rank(bytes[i], bytes[i + 1]);
      if (pair[i] != kNoRank) queue.push((uint64_t(pair[i]) << 32) | i);
    }
  }
  auto update = [&](size_t s) {
    size_t mid = next[s];
    if (mid >= n) {
      pair[s] = kNoRank;
      return;
    }
    pair[s] = vocab.find_or_none(piece.substr(s, next[mid] - s));
    if (pair[s] != kNoRank) queue.push((uint64_t(pair[s]) << 32) | s);
  };
  uint64_t top;
  while (queue.pop(&top)) {
    const Rank rank = Rank(top >> 32);
    const size_t s = size_t(top & 0xFFFFFFFFu);
    // Stale entries: the part at s was absorbed (pair reset to kNoRank) or its successor changed (pair
    // recomputed; a different successor means different bytes, hence a different rank).
    if (pair[s] != rank) continue;
    const size_t right = next[s];
    part[s] = rank;
    next[s] = next[right];
    pair[right] = kNoRank;
    if (next[s] < n) prev[next[s]] = uint32_t(s);
    update(s);
    if (s > 0) update(prev[s]);
  }
  for (size_t i = 0; i < n; i = next[i]) out.push_back(part[i]);
}

void byte_pair_encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  if (piece.size() <= kSmallPieceLimit) {
    byte_pair_encode_small(vocab, piece, out);
  } else {
    byte_pair_encode_large(vocab, piece, out);
  }
}

}  // namespace tokenmill
