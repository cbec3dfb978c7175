// Stage 2 of training: the merge loop, with rustbpe's rule (highest count, then smallest (left, right)).
//
// Data layout, and why:
//  - Every distinct chunk of 2+ bytes is a "word": a run of uint32 ids in one flat array, rewritten in
//    place (compacted) when a merge applies to it. Single-byte chunks never hold a pair and are dropped.
//  - Pairs live in struct-of-arrays indexed by a pair number; a flat open-addressing table maps the 64-bit
//    key (left << 32 | right) to that number. Pairs are never deleted (a count can drop to 0).
//  - Where a pair occurs: a slice of one shared pool of word numbers. A pair's occurrences are only ever
//    *created* in one step — the byte pairs by the initial count, and a pair containing id n only by the
//    merge that creates n — so each pair needs exactly one contiguous slice, written once, in word order,
//    without duplicates. No per-pair sets or vectors (rustbpe keeps a hash set per pair). A slice may
//    name words that no longer hold the pair; the merge scan finds nothing there and moves on.
//  - A binary max-heap of (count, key) with lazy invalidation: counts only fall after a pair is queued
//    (its rises all happen in the step that creates it, before it is queued), so an entry whose count
//    differs from the live count is stale-high; it is re-queued with the live count when popped. The
//    popped entry is therefore always the live maximum, with ties broken by the smaller key, as in
//    rustbpe's OctonaryHeap.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_set>

#include "tokenmill/train.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {

constexpr uint64_t kEmptyKey = ~uint64_t(0);
constexpr uint32_t kNoWord = UINT32_MAX;

inline uint64_t pair_key(uint32_t left, uint32_t right) { return (uint64_t(left) << 32) | right; }

class PairIndex {
 public:
  PairIndex() { rehash(1 << 17); }

  // Pair number for key, or UINT32_MAX.
  uint32_t find(uint64_t key) const {
    for (uint64_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.idx;
      if (s.key == kEmptyKey) return UINT32_MAX;
    }
  }
  // Pair number for key, inserting `fresh` if absent (inserted = true).
  uint32_t find_or_insert(uint64_t key, uint32_t fresh, bool* inserted) {
    for (uint64_t i = slot_of(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) {
        *inserted = false;
        return s.idx;
      }
      if (s.key == kEmptyKey) {
        s.key = key;
        s.idx = fresh;
        *inserted = true;
        if (++size_ * 2 > slots_.size()) rehash(slots_.size() * 2);
        return fresh;
      }
    }
  }

 private:
  struct Slot {
    uint64_t key;
    uint32_t idx;
  };
  uint64_t slot_of(uint64_t key) const { return ((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }
  void rehash(size_t n) {
    std::vector<Slot> old(n, Slot{kEmptyKey, 0});
    old.swap(slots_);
    mask_ = n - 1;
    for (const Slot& s : old) {
      if (s.key == kEmptyKey) continue;
      for (uint64_t i = slot_of(s.key);; i = (i + 1) & mask_) {
        if (slots_[i].key == kEmptyKey) {
          slots_[i] = s;
          break;
        }
      }
    }
  }
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

struct HeapEntry {
  int64_t count;
  uint64_t key;
};
// std::*_heap keep the greatest element first: greater count, then smaller key.
inline bool heap_less(const HeapEntry& a, const HeapEntry& b) {
  return a.count < b.count || (a.count == b.count && a.key > b.key);
}

class Trainer {
 public:
  explicit Trainer(const ChunkCounter& counter) {
    size_t n = counter.distinct_chunks();
    uint64_t total_syms = 0;
    for (size_t i = 0; i < n; ++i) {
      if (counter.chunk(i).size() >= 2) total_syms += counter.chunk(i).size();
    }
    syms_.reserve(total_syms);
    for (size_t i = 0; i < n; ++i) {
      std::string_view c = counter.chunk(i);
      if (c.size() < 2) continue;
      start_.push_back(syms_.size());
      len_.push_back(uint32_t(c.size()));
      freq_.push_back(int64_t(counter.count(i)));
      for (char ch : c) syms_.push_back(uint8_t(ch));
    }
  }

  // Initial pair counts from dense 65536-entry tables (all pairs are byte pairs), their position slices,
  // and the heap.
  void count_initial_pairs() {
    std::vector<int64_t> count(65536, 0);
    std::vector<uint32_t> words(65536, 0), mark(65536, kNoWord);
    const uint32_t nw = uint32_t(start_.size());
    for (uint32_t w = 0; w < nw; ++w) {
      const uint32_t* s = syms_.data() + start_[w];
      const int64_t f = freq_[w];
      for (uint32_t i = 0; i + 1 < len_[w]; ++i) {
        uint32_t k = (s[i] << 8) | s[i + 1];
        count[k] += f;
        if (mark[k] != w) {
          mark[k] = w;
          ++words[k];
        }
      }
    }
    std::vector<uint32_t> idx_of(65536, UINT32_MAX);
    uint64_t offset = 0;
    for (uint32_t k = 0; k < 65536; ++k) {
      if (count[k] == 0) continue;
      idx_of[k] = new_pair(pair_key(k >> 8, k & 0xFF), count[k]);
      pos_begin_.back() = offset;
      offset += words[k];
    }
    pool_.resize(offset);
    for (uint32_t w = 0; w < nw; ++w) {
      const uint32_t* s = syms_.data() + start_[w];
      for (uint32_t i = 0; i + 1 < len_[w]; ++i) {
        uint32_t p = idx_of[(s[i] << 8) | s[i + 1]];
        if (mark_[p] != w) {
          mark_[p] = w;
          pool_[pos_begin_[p] + pos_len_[p]++] = w;
        }
      }
    }
    heap_.reserve(pkey_.size() * 2);
    for (uint32_t p = 0; p < pkey_.size(); ++p) heap_.push_back({pcount_[p], pkey_[p]});
    std::make_heap(heap_.begin(), heap_.end(), heap_less);
  }

  size_t pair_count() const { return pkey_.size(); }

  // Pops the best live pair; false if none is left.
  bool pop_best(uint32_t* best) {
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), heap_less);
      HeapEntry e = heap_.back();
      heap_.pop_back();
      const uint32_t p = index_.find(e.key);
      const int64_t live = pcount_[p];
      if (live <= 0) continue;
      if (live != e.count) {  // stale: re-queue with the live count
        heap_.push_back({live, e.key});
        std::push_heap(heap_.begin(), heap_.end(), heap_less);
        continue;
      }
      *best = p;
      return true;
    }
    return false;
  }

  // Replaces pair p by new_id in every word of its slice, updating counts and creating the new pairs.
  void merge(uint32_t p, uint32_t new_id) {
    const uint32_t a = uint32_t(pkey_[p] >> 32), b = uint32_t(pkey_[p]);
    const uint32_t first_new = uint32_t(pkey_.size());
    step_.clear();
    const uint64_t begin = pos_begin_[p], end = begin + pos_len_[p];
    for (uint64_t j = begin; j < end; ++j) {
      const uint32_t w = pool_[j];
      uint32_t* s = syms_.data() + start_[w];
      const uint32_t len = len_[w];
      uint32_t i = 0;
      while (i + 1 < len && !(s[i] == a && s[i + 1] == b)) ++i;
      if (i + 1 >= len) continue;  // a stale position: an earlier merge consumed the pair here
      const int64_t f = freq_[w];
      uint32_t o = i;
      while (i < len) {
        if (i + 1 < len && s[i] == a && s[i + 1] == b) {
          if (o > 0) {
            const uint32_t x = s[o - 1];
            sub(pair_key(x, a), f);
            add(pair_key(x, new_id), f, w);
          }
          if (i + 2 < len) {
            const uint32_t y = s[i + 2];
            sub(pair_key(b, y), f);
            add(pair_key(new_id, y), f, w);
          }
          s[o++] = new_id;
          i += 2;
        } else {
          s[o++] = s[i++];
        }
      }
      len_[w] = o;
    }
    // Left-to-right merging leaves no (a, b) anywhere.
    pcount_[p] = 0;

    // Give each pair created in this step its slice of the pool (words in processing order), and queue it.
    const uint32_t fresh = uint32_t(pkey_.size()) - first_new;
    if (fresh == 0) return;
    uint64_t offset = pool_.size();
    for (uint32_t q = first_new; q < pkey_.size(); ++q) {
      pos_begin_[q] = offset;
      offset += pos_len_[q];
      pos_len_[q] = 0;
    }
    pool_.resize(offset);
    for (const auto& [q, w] : step_) pool_[pos_begin_[q] + pos_len_[q]++] = w;
    for (uint32_t q = first_new; q < pkey_.size(); ++q) {
      if (pcount_[q] > 0) {
        heap_.push_back({pcount_[q], pkey_[q]});
        std::push_heap(heap_.begin(), heap_.end(), heap_less);
      }
    }
  }

  uint64_t pair_key_of(uint32_t p) const { return pkey_[p]; }

 private:
  uint32_t new_pair(uint64_t key, int64_t count) {
    bool inserted;
    uint32_t p = index_.find_or_insert(key, uint32_t(pkey_.size()), &inserted);
    pkey_.push_back(key);
    pcount_.push_back(count);
    pos_begin_.push_back(0);
    pos_len_.push_back(0);
    mark_.push_back(kNoWord);
    return p;
  }
  void sub(uint64_t key, int64_t f) { pcount_[index_.find(key)] -= f; }
  void add(uint64_t key, int64_t f, uint32_t w) {
    bool inserted;
    uint32_t q = index_.find_or_insert(key, uint32_t(pkey_.size()), &inserted);
    if (inserted) {
      pkey_.push_back(key);
      pcount_.push_back(0);
      pos_begin_.push_back(0);
      pos_len_.push_back(0);
      mark_.push_back(kNoWord);
    }
    pcount_[q] += f;
    if (mark_[q] != w) {  // first time in this word: one position per word
      mark_[q] = w;
      ++pos_len_[q];
      step_.push_back({q, w});
    }
  }

  std::vector<uint32_t> syms_;
  std::vector<uint64_t> start_;
  std::vector<uint32_t> len_;
  std::vector<int64_t> freq_;

  PairIndex index_;
  std::vector<uint64_t> pkey_;
  std::vector<int64_t> pcount_;
  std::vector<uint64_t> pos_begin_;
  std::vector<uint32_t> pos_len_;
  std::vector<uint32_t> mark_;
  std::vector<uint32_t> pool_;
  std::vector<std::pair<uint32_t, uint32_t>> step_;
  std::vector<HeapEntry> heap_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

namespace {

// What a failed train_bpe was doing (util/no_throw.h); the counter may be consumed by then.
std::string train_what(const TrainOptions& options) {
  return "training a vocabulary of " + std::to_string(options.vocab_size) + " ids";
}

Result<TrainResult> train_impl(const ChunkCounter& counter, const TrainOptions& options, ChunkCounter* consume) {
  if (options.vocab_size < 256 || options.vocab_size > (uint64_t(1) << 31)) {
    return Status(ErrorCode::kInvalidArgument,
                  "vocab_size must be between 256 and 2^31 (" + std::to_string(uint64_t(1) << 31) + "), got " +
                      std::to_string(options.vocab_size));
  }
  if (counter.total_chunks() == 0) {
    return Status(ErrorCode::kInvalidArgument, "empty corpus: no text to train on");
  }
  {
    std::unordered_set<std::string> seen;
    for (const auto& t : options.special_tokens) {
      if (t.empty()) return Status(ErrorCode::kInvalidArgument, "special tokens must not be empty");
      if (!seen.insert(t).second) return Status(ErrorCode::kInvalidArgument, "special token repeated: " + t);
    }
  }

  TrainResult result;
  result.merges_requested = uint32_t(options.vocab_size - 256);
  auto t0 = std::chrono::steady_clock::now();
  Trainer trainer(counter);
  result.model.pattern = counter.pattern();
  if (consume != nullptr) {
    ChunkCounter drop(std::move(*consume));  // the trainer has its own copy of the chunks now
  }
  trainer.count_initial_pairs();
  result.initial_pairs = trainer.pair_count();
  result.seconds_setup = seconds_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  const uint32_t requested = result.merges_requested;
  const uint32_t report_every = std::max<uint32_t>(1, requested / 100);
  result.merges.reserve(requested);
  for (uint32_t k = 0; k < requested; ++k) {
    uint32_t p;
    if (!trainer.pop_best(&p)) break;
    const uint64_t key = trainer.pair_key_of(p);
    trainer.merge(p, 256 + k);
    result.merges.emplace_back(Rank(key >> 32), Rank(key & 0xFFFFFFFFu));
    if (options.on_progress && (k + 1) % report_every == 0) options.on_progress(k + 1, requested);
  }
  if (options.on_progress) options.on_progress(uint32_t(result.merges.size()), requested);
  result.seconds_merge = seconds_since(t1);

  // Token bytes: 256 single bytes, then each merge's left + right.
  std::vector<std::string> tokens;
  tokens.reserve(256 + result.merges.size());
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, char(b));
  for (const auto& [l, r] : result.merges) tokens.push_back(tokens[l] + tokens[r]);
  std::vector<std::pair<std::string, Rank>> ranks;
  ranks.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) ranks.emplace_back(std::move(tokens[i]), Rank(i));
  auto vocab = Vocabulary::from_ranks(std::move(ranks));
  if (!vocab.ok()) return Status(vocab.status().code(), "trained vocabulary is not valid: " + vocab.error());

  result.model.ranks = std::move(vocab).value();
  Rank next = Rank(256 + result.merges.size());
  for (const auto& t : options.special_tokens) result.model.special_tokens.emplace_back(t, next++);
  return result;
}

}  // namespace

Result<TrainResult> train_bpe(const ChunkCounter& counter, const TrainOptions& options) try {
  return train_impl(counter, options, nullptr);
} catch (...) {
  return util::exception_status([&] { return train_what(options); });
}

Result<TrainResult> train_bpe(ChunkCounter&& counter, const TrainOptions& options) try {
  return train_impl(counter, options, &counter);
} catch (...) {
  return util::exception_status([&] { return train_what(options); });
}

}  // namespace tokenmill
