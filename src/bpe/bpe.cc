#include "tokenmill/bpe.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <queue>

// Performance notes: the measurements behind this file's constants.
//
// - kSmallPieceLimit: on cl100k and o200k, real pieces that miss the whole-piece lookup are almost all
//   under 32 bytes, and below 128 bytes the O(n^2) scan over a stack array beats the heap.
// - kChunkBytes, on 1 MB of random a-z with cl100k: 0.079 s at 1 KiB chunks, 0.056 s at 4 KiB, 0.047 s at
//   16 KiB, 0.053 s at 64 KiB.

namespace tokenmill {

namespace {

// Below this length the O(n^2) scan over a stack array beats the heap (performance notes above).
constexpr size_t kSmallPieceLimit = 128;
// Long pieces are encoded in chunks of this size, so each chunk's list and buckets stay in L2 cache (see
// byte_pair_encode_chunked): per-chunk setup against cache misses (performance notes above).
constexpr size_t kChunkBytes = 16384;
// From here on, per-rank buckets (whose setup is O(vocabulary size)) beat a heap.
constexpr size_t kBucketMinPiece = 16384;

}  // namespace

namespace {

// dst[i] = dst[i + 1] for i < count, in fixed blocks of kShiftBlock entries: each block is a few inline
// vector moves instead of a call to memmove for the dozen bytes a merge usually shifts. It reads and writes
// up to kShiftBlock entries past count, so arrays keep that much slack.
constexpr size_t kShiftBlock = 16;
inline void shift_down(uint32_t* dst, size_t count) {
  for (size_t i = 0; i < count; i += kShiftBlock) {
    uint32_t block[kShiftBlock];
    std::memcpy(block, dst + i + 1, sizeof block);
    std::memcpy(dst + i, block, sizeof block);
  }
}

}  // namespace

void byte_pair_encode_small(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
  if (n == 1) {
    out.push_back(vocab.byte_rank(bytes[0]));
    return;
  }
  // Parts live in three parallel arrays, in order: start[k] is where part k begins (start[m] == n), token[k]
  // its token, pair[k] the rank of merging it with part k+1. A merge removes one entry by shifting the
  // tails down: for the short pieces this serves, a few dozen bytes of memmove are cheaper than a linked
  // list, whose next-pointers make every scan a chain of dependent loads, and the min-scan over a
  // contiguous array has no such chain. Parts start as bytes, so token and pair come from the dense byte
  // tables; after a merge the new part's token is the pair rank just chosen, so only the two new
  // neighbour pairs need the hash table, and their probes are issued together so the two likely cache
  // misses overlap.
  uint32_t start_buf[kSmallPieceLimit + 1 + kShiftBlock];
  Rank pair_buf[kSmallPieceLimit + kShiftBlock], token_buf[kSmallPieceLimit + kShiftBlock];
  std::vector<uint32_t> start_heap;
  std::vector<Rank> pair_heap, token_heap;
  uint32_t* start = start_buf;
  Rank* pair = pair_buf;
  Rank* token = token_buf;
  if (n > kSmallPieceLimit) {  // only reached when a test forces this path on a long piece
    start_heap.resize(n + 1 + kShiftBlock);
    pair_heap.resize(n + kShiftBlock);
    token_heap.resize(n + kShiftBlock);
    start = start_heap.data();
    pair = pair_heap.data();
    token = token_heap.data();
  }
  // Lookups read 8 bytes at a time past the end of a key (see Vocabulary::probe), so short pieces are
  // copied into a buffer with 8 bytes of slack: then no pair near the piece's end needs the slow path.
  char padded_buf[kSmallPieceLimit + 8];
  const char* readable_end = piece.data() + n;
  if (n <= kSmallPieceLimit) {
    std::memcpy(padded_buf, piece.data(), n);
    std::memset(padded_buf + n, 0, 8);
    piece = std::string_view(padded_buf, n);
    readable_end = padded_buf + n + 8;
  }
  for (size_t i = 0; i < n; ++i) {
    start[i] = uint32_t(i);
    token[i] = vocab.byte_rank(bytes[i]);
  }
  start[n] = uint32_t(n);
  for (size_t i = 0; i + 1 < n; ++i) pair[i] = vocab.byte_pair_rank(bytes[i], bytes[i + 1]);
  pair[n - 1] = kNoRank;
  size_t m = n;
  while (true) {
    // The leftmost lowest rank in one pass of conditional moves (pair[m - 1] is always kNoRank).
    Rank best = pair[0];
    size_t at = 0;
    for (size_t k = 1; k + 1 < m; ++k) {
      const bool lower = pair[k] < best;
      best = lower ? pair[k] : best;
      at = lower ? k : at;
    }
    if (best == kNoRank) break;
    token[at] = best;
    // Part at+1 joins part at: drop its entries.
    shift_down(start + at + 1, m - at - 1);
    shift_down(token + at + 1, m - at - 2);
    shift_down(pair + at + 1, m - at - 2);
    --m;
    const bool has_right = at + 1 < m, has_left = at > 0;
    std::string_view right, left;
    Vocabulary::Probe right_probe{}, left_probe{};
    if (has_right) {
      right = piece.substr(start[at], start[at + 2] - start[at]);
      right_probe = vocab.probe_filtered(right, readable_end);
    }
    if (has_left) {
      left = piece.substr(start[at - 1], start[at + 1] - start[at - 1]);
      left_probe = vocab.probe_filtered(left, readable_end);
    }
    pair[at] = has_right ? vocab.find_probed(right, right_probe) : kNoRank;
    if (has_left) pair[at - 1] = vocab.find_probed(left, left_probe);
  }
  out.insert(out.end(), token, token + m);
}

namespace {

// State shared by the long-piece algorithms: a doubly linked list of parts, indexed by each part's first
// byte. For the part starting at s: next is where the following part starts (n at the end), part is its
// token, pair the rank of merging it with its successor (kNoRank if not a token). The four fields of a
// position share one 16-byte node, so following the list costs one cache miss per step, not four.
struct PartList {
  struct Node {
    uint32_t next, prev;
    Rank pair, part;
  };
  std::vector<Node> nodes;

  PartList(const Vocabulary& vocab, std::string_view piece) : nodes(piece.size()) {
    const size_t n = piece.size();
    const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
    for (size_t i = 0; i < n; ++i) {
      nodes[i] = Node{uint32_t(i + 1), uint32_t(i - 1),  // prev wraps for i == 0; never read there
                      i + 1 < n ? vocab.byte_pair_rank(bytes[i], bytes[i + 1]) : kNoRank, vocab.byte_rank(bytes[i])};
    }
  }

  Rank pair(size_t s) const { return nodes[s].pair; }

  // Merges the part at s with its successor (its pair is valid); calls on_pair(start, rank) for the two
  // pairs that change: the merged part with its new successor, and its predecessor with it.
  template <class OnPair>
  void merge(const Vocabulary& vocab, std::string_view piece, size_t s, OnPair on_pair) {
    const size_t n = piece.size();
    Node& node = nodes[s];
    Node& right = nodes[node.next];
    node.part = node.pair;
    node.next = right.next;
    right.pair = kNoRank;
    if (node.next < n) nodes[node.next].prev = uint32_t(s);
    // Both new pairs are looked up with their probes issued first, so the two likely cache misses overlap.
    const std::string_view right_pair = pair_bytes(piece, s);
    const std::string_view left_pair = s > 0 ? pair_bytes(piece, node.prev) : std::string_view();
    Vocabulary::Probe right_probe{}, left_probe{};
    if (!right_pair.empty()) right_probe = vocab.probe_filtered(right_pair, piece.data() + piece.size());
    if (!left_pair.empty()) left_probe = vocab.probe_filtered(left_pair, piece.data() + piece.size());
    node.pair = right_pair.empty() ? kNoRank : vocab.find_probed(right_pair, right_probe);
    if (node.pair != kNoRank) on_pair(s, node.pair);
    if (s > 0) {
      Node& left = nodes[node.prev];
      left.pair = vocab.find_probed(left_pair, left_probe);
      if (left.pair != kNoRank) on_pair(node.prev, left.pair);
    }
  }

  // The bytes of the part at s joined with its successor; empty if s is the last part.
  std::string_view pair_bytes(std::string_view piece, size_t s) const {
    const size_t mid = nodes[s].next;
    if (mid >= piece.size()) return {};
    return piece.substr(s, nodes[mid].next - s);
  }

  void emit(size_t n, std::vector<Rank>& out) const {
    for (size_t i = 0; i < n; i = nodes[i].next) out.push_back(nodes[i].part);
  }
};

}  // namespace

void byte_pair_encode_heap(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  const size_t n = piece.size();
  if (n == 0) return;
  PartList parts(vocab, piece);
  // Min-heap of (rank << 32 | start): one integer compare orders by rank, then leftmost start. Entries
  // go stale instead of being removed; a stale entry's rank no longer equals pair[start] (a part that was
  // absorbed has kNoRank; a part whose successor changed covers other bytes, hence another rank).
  std::vector<uint64_t> heap;
  heap.reserve(2 * n);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (parts.pair(i) != kNoRank) heap.push_back((uint64_t(parts.pair(i)) << 32) | i);
  }
  const auto later = std::greater<uint64_t>();
  std::make_heap(heap.begin(), heap.end(), later);  // O(n), not n pushes
  auto push = [&](size_t s, Rank rank) {
    heap.push_back((uint64_t(rank) << 32) | s);
    std::push_heap(heap.begin(), heap.end(), later);
  };
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const size_t s = size_t(top & 0xFFFFFFFFu);
    if (parts.pair(s) != Rank(top >> 32)) continue;
    parts.merge(vocab, piece, s, push);
  }
  parts.emit(n, out);
}

namespace {

// The per-rank buckets of byte_pair_encode_buckets, kept across calls so that chunks of one long piece
// share one rank-indexed array (its O(vocabulary) setup is paid once per piece, not per chunk).
class BucketQueue {
 public:
  explicit BucketQueue(Rank rank_limit) : head_(rank_limit, kNil) {}

  // Merges in increasing rank order, one bucket of positions per rank, each bucket in increasing position
  // order: exactly "lowest rank first, leftmost on ties" as long as no merge creates a pair ranked below
  // the rank being merged (then this returns false, appending nothing, and the caller uses the heap). Two
  // same-rank pairs only interact when they overlap, and then the left one must win, which ascending order
  // gives; a merge never creates a pair of its own rank (the new pair covers more bytes, so it is another
  // token). The non-empty ranks sit in a small min-heap: a chunk touches a few hundred distinct ranks, so
  // this beats scanning all of them. Each merge costs two lookups and two appends.
  bool encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
    const size_t n = piece.size();
    if (n == 0) return true;
    PartList parts(vocab, piece);
    entries_.clear();
    ranks_.clear();
    for (size_t i = 0; i + 1 < n; ++i) {
      if (parts.pair(i) != kNoRank) add(uint32_t(i), parts.pair(i));
    }
    bool monotone = true;
    Rank current = 0;
    auto add_later = [&](size_t s, Rank rank) {
      if (rank <= current) monotone = false;
      else add(uint32_t(s), rank);
    };
    while (!ranks_.empty() && monotone) {
      std::pop_heap(ranks_.begin(), ranks_.end(), std::greater<Rank>());
      current = ranks_.back();
      ranks_.pop_back();
      batch_.clear();
      for (uint32_t e = head_[current]; e != kNil; e = entries_[e].next) batch_.push_back(entries_[e].pos);
      head_[current] = kNil;
      // The list holds newest first; initial entries were added left to right, so usually this is a reverse.
      std::reverse(batch_.begin(), batch_.end());
      if (!std::is_sorted(batch_.begin(), batch_.end())) std::sort(batch_.begin(), batch_.end());
      for (size_t i = 0; i < batch_.size() && monotone; ++i) {
        // Positions of one rank are spread over the piece: fetch a few nodes ahead.
        if (i + 8 < batch_.size()) __builtin_prefetch(&parts.nodes[batch_[i + 8]]);
        const uint32_t s = batch_[i];
        if (parts.pair(s) != current) continue;  // absorbed, or its successor changed
        parts.merge(vocab, piece, s, add_later);
      }
    }
    if (!monotone) {  // leave every bucket empty for the next call
      for (Rank r : ranks_) head_[r] = kNil;
      ranks_.clear();
      return false;
    }
    parts.emit(n, out);
    return true;
  }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  struct Entry {
    uint32_t pos, next;
  };

  void add(uint32_t s, Rank rank) {
    if (head_[rank] == kNil) {
      ranks_.push_back(rank);
      std::push_heap(ranks_.begin(), ranks_.end(), std::greater<Rank>());
    }
    entries_.push_back(Entry{s, head_[rank]});
    head_[rank] = uint32_t(entries_.size() - 1);
  }

  std::vector<uint32_t> head_;  // per rank: the newest entry, a list through Entry::next
  std::vector<Entry> entries_;
  std::vector<Rank> ranks_;     // min-heap of the ranks whose bucket is non-empty
  std::vector<uint32_t> batch_;
};

}  // namespace

bool byte_pair_encode_buckets(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  if (piece.size() >= (size_t(1) << 32)) return false;
  BucketQueue queue(vocab.rank_limit());
  return queue.encode(vocab, piece, out);
}

namespace {

// Whether the two tokens stay two when their bytes are encoded together: BPE(bytes(a) + bytes(b)) == [a, b].
bool compatible(const Vocabulary& vocab, Rank a, Rank b, std::vector<Rank>& scratch) {
  std::string joined;
  joined.reserve(vocab.token_bytes(a).size() + vocab.token_bytes(b).size());
  joined.append(vocab.token_bytes(a)).append(vocab.token_bytes(b));
  scratch.clear();
  if (joined.size() <= kSmallPieceLimit) {
    byte_pair_encode_small(vocab, joined, scratch);
  } else {
    byte_pair_encode_heap(vocab, joined, scratch);
  }
  return scratch.size() == 2 && scratch[0] == a && scratch[1] == b;
}

// A repair window that grows past this many bytes means the piece does not settle locally: the caller
// gives up on chunks and encodes the piece whole (still exact, and still O(n log n)).
constexpr size_t kMaxRepairBytes = 1 << 16;

}  // namespace

bool byte_pair_encode_chunked(const Vocabulary& vocab, std::string_view piece, size_t chunk_bytes,
                              std::vector<Rank>& out) {
  // Why this is exact. Call tokens a, b compatible when BPE(bytes(a) + bytes(b)) == [a, b]. Then:
  //  (1) Any two adjacent tokens of a BPE output are compatible: a final boundary is never merged across,
  //      so the merges on either side of it, and the pair across it, are compared exactly as they would
  //      be in a run on those two tokens' bytes alone.
  //  (2) If every adjacent pair of t1..tm is compatible, BPE(bytes(t1..tm)) == t1..tm: take the first merge
  //      of that run that crosses some t_i|t_i+1 boundary; up to it, regions t_i and t_i+1 went through the
  //      same states, choosing the same lowest-rank, leftmost pairs, as a run on bytes(t_i t_i+1) alone
  //      would, so that run would merge across too, contradicting compatibility. With no merge across a
  //      boundary, each region ends as its own encoding, which compatibility makes the single token t_i.
  // Neither needs anything of the vocabulary. So: encode chunks separately (each small enough for cache),
  // and where two meet with an incompatible pair, re-encode a window of tokens around the seam, widening
  // it on each side whose new outer pair is still incompatible.
  const size_t n = piece.size();
  if (n >= (size_t(1) << 32) || chunk_bytes == 0) return false;
  std::vector<Rank> tokens;
  std::vector<uint32_t> starts;  // starts[i]: where tokens[i] begins in piece
  tokens.reserve(n / 2);
  starts.reserve(n / 2);
  std::vector<Rank> window, scratch;
  BucketQueue queue(vocab.rank_limit());
  auto encode_span = [&](size_t begin, size_t end, std::vector<Rank>& ids) {
    ids.clear();
    const std::string_view span = piece.substr(begin, end - begin);
    if (!queue.encode(vocab, span, ids)) byte_pair_encode_heap(vocab, span, ids);
  };
  // Where each of `ids` begins, the first at `begin`.
  std::vector<uint32_t> window_starts;
  auto starts_of = [&](const std::vector<Rank>& ids, size_t begin) -> const std::vector<uint32_t>& {
    window_starts.clear();
    for (Rank r : ids) {
      window_starts.push_back(uint32_t(begin));
      begin += vocab.token_bytes(r).size();
    }
    return window_starts;
  };
  for (size_t pos = 0; pos < n;) {
    const size_t end = std::min(n, pos + chunk_bytes);
    encode_span(pos, end, window);
    const size_t seam = tokens.size();  // index of the chunk's first token
    tokens.insert(tokens.end(), window.begin(), window.end());
    const auto& chunk_starts = starts_of(window, pos);
    starts.insert(starts.end(), chunk_starts.begin(), chunk_starts.end());
    pos = end;
    if (seam == 0 || compatible(vocab, tokens[seam - 1], tokens[seam], scratch)) continue;
    // Window [lo, hi) of tokens around the seam, re-encoded as one span until both outer pairs hold.
    size_t lo = seam - 1, hi = seam + 1, grow_left = 1, grow_right = 1;
    while (true) {
      const size_t begin = starts[lo];
      // Only tokens already placed can join the window: the rest of the piece is not encoded yet, and
      // the next seam is checked when its chunk arrives.
      const size_t span_end = hi < tokens.size() ? size_t(starts[hi]) : pos;
      if (span_end - begin > kMaxRepairBytes) return false;
      encode_span(begin, span_end, window);
      const bool left_ok = lo == 0 || compatible(vocab, tokens[lo - 1], window.front(), scratch);
      const bool right_ok = hi == tokens.size() || compatible(vocab, window.back(), tokens[hi], scratch);
      if (left_ok && right_ok) {
        // Splice: tokens [lo, hi) become window, with their starts.
        const auto& new_starts = starts_of(window, begin);
        tokens.erase(tokens.begin() + long(lo), tokens.begin() + long(hi));
        tokens.insert(tokens.begin() + long(lo), window.begin(), window.end());
        starts.erase(starts.begin() + long(lo), starts.begin() + long(hi));
        starts.insert(starts.begin() + long(lo), new_starts.begin(), new_starts.end());
        break;
      }
      if (!left_ok) {
        lo = lo > grow_left ? lo - grow_left : 0;
        grow_left *= 2;
      }
      if (!right_ok) {
        hi = std::min(tokens.size(), hi + grow_right);
        grow_right *= 2;
      }
    }
  }
  out.insert(out.end(), tokens.begin(), tokens.end());
  return true;
}

void byte_pair_encode_large(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  if (piece.size() >= (size_t(1) << 32)) {  // positions are 32-bit; no real piece is 4 GiB
    byte_pair_encode_small(vocab, piece, out);
    return;
  }
  // Buckets cost O(vocabulary) to set up, so they pay off only on long pieces.
  if (piece.size() >= kBucketMinPiece) {
    std::vector<Rank> ids;
    if (byte_pair_encode_buckets(vocab, piece, ids)) {
      out.insert(out.end(), ids.begin(), ids.end());
      return;
    }
  }
  byte_pair_encode_heap(vocab, piece, out);
}

void byte_pair_encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out) {
  if (piece.size() <= kSmallPieceLimit) {
    byte_pair_encode_small(vocab, piece, out);
  } else if (piece.size() <= kChunkBytes) {
    byte_pair_encode_heap(vocab, piece, out);
  } else if (!byte_pair_encode_chunked(vocab, piece, kChunkBytes, out)) {
    byte_pair_encode_large(vocab, piece, out);
  }
}

}  // namespace tokenmill
