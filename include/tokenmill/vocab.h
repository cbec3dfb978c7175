// Vocabulary: the mergeable ranks of a byte-level BPE model (token bytes <-> rank), and its file formats.
//
//   auto vocab = tokenmill::Vocabulary::load_tiktoken_file("cl100k_base.tiktoken");
//   if (!vocab.ok()) { std::cerr << vocab.error() << "\n"; return 1; }   // names file and line
//   std::optional<Rank> r = vocab->find("hello");                       // rank of those bytes
//   std::string_view bytes = vocab->token_bytes(*r);                      // and back
//
// A rank is both the token id and the merge priority (lower merges first), as in tiktoken.
//
// Performance notes: the token filter (kFilterBits) has 5% of its bits set for cl100k and 9% for o200k,
// and answers ~90% of the non-token keys BPE asks about. Measured on o200k, multi.txt 20 MB: +10%; used on
// whole pieces as well, it cost cl100k en.txt 10%, so only BPE's probes consult it (probe_filtered).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmill/status.h"

namespace tokenmill {

namespace detail {
// Memory for tables that are read at random (the token hash table): blocks of 1 MiB or more are 2 MiB-aligned
// and marked for transparent huge pages where the kernel offers them, so a lookup into a 4-8 MB table does not
// also miss the TLB. Smaller blocks come from operator new.
void* allocate_table(size_t bytes);
void free_table(void* p, size_t bytes);

template <class T>
struct TableAllocator {
  using value_type = T;
  TableAllocator() = default;
  template <class U>
  TableAllocator(const TableAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(allocate_table(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { free_table(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const TableAllocator<U>&) const { return true; }
};
}  // namespace detail

using Rank = uint32_t;
inline constexpr Rank kNoRank = UINT32_MAX;

class Vocabulary {
 public:
  Vocabulary() = default;

  // Parses tiktoken's `.tiktoken` format: one `base64(token bytes) SPACE rank` per line; empty lines are
  // skipped. Rejects bad base64, empty tokens, non-numeric ranks, duplicate tokens or ranks; each error
  // names `source_name` and the line. Gaps in the ranks are allowed here (OpenAI's p50k_base skips 50256,
  // the id of <|endoftext|>); Encoding requires special tokens to fill them.
  static Result<Vocabulary> parse_tiktoken(std::string_view contents, std::string_view source_name);
  static Result<Vocabulary> load_tiktoken_file(const std::string& path);

  // From (bytes, rank) pairs, e.g. a trained model or a Python dict. Same checks as the parser.
  static Result<Vocabulary> from_ranks(std::vector<std::pair<std::string, Rank>> ranks);

  // The `.tiktoken` text for this vocabulary, in rank order (byte-identical to OpenAI's files).
  std::string to_tiktoken() const;

  // Rank of exactly these bytes, if they are a token. This is the BPE hot path: one hash, usually one
  // probe, and for tokens of up to 8 bytes a compare that never leaves the slot.
  std::optional<Rank> find(std::string_view bytes) const {
    Rank r = find_or_none(bytes);
    return r == kNoRank ? std::nullopt : std::optional<Rank>(r);
  }
  inline Rank find_or_none(std::string_view bytes) const;

  // find_or_none in two steps, so a caller can start the memory access for the next key while it works on
  // the current one (the table is megabytes; a lookup is often a cache miss). Same result as find_or_none.
  // 16 bytes, so it is returned in two registers (a larger struct goes through memory).
  struct Probe {
    uint64_t head;
    // The key's hash with its top bit clear (callers may use its low bits, e.g. to index a cache of their
    // own), or kAbsent: the filter proved the key absent, and the table is not touched.
    uint64_t hash;
  };
  static constexpr uint64_t kAbsent = ~uint64_t(0);
  Probe probe(std::string_view bytes) const { return probe(bytes, bytes.data() + bytes.size()); }
  // The same, told that memory up to `readable_end` (>= the end of bytes) may be read: then a key of under
  // 8 bytes is one 8-byte load and a mask, instead of length-dependent branches that real text mispredicts.
  Probe probe(std::string_view bytes, const char* readable_end) const {
    const uint64_t head = key_head(bytes, readable_end);
    const uint64_t hash = hash_bytes(bytes.data(), bytes.size(), head);
    prefetch_slot(hash & mask_, bytes.size());
    return Probe{head, hash & kHashBits};
  }
  // probe() for keys that are usually not tokens (BPE's candidate pairs): first asks a 256 KiB filter
  // (one bit per hash, L2-resident), which proves most absent keys absent without touching the slots.
  // Whole pieces of real text are mostly tokens, so there the filter would only add a load.
  Probe probe_filtered(std::string_view bytes, const char* readable_end) const {
    const uint64_t head = key_head(bytes, readable_end);
    const uint64_t hash = hash_bytes(bytes.data(), bytes.size(), head);
    if (!might_contain(hash)) return Probe{head, kAbsent};
    prefetch_slot(hash & mask_, bytes.size());
    return Probe{head, hash & kHashBits};
  }
  inline Rank find_probed(std::string_view bytes, Probe probe) const;
  // Ranks of one and two bytes from dense tables (256 and 65536 entries, L1/L2-resident): BPE starts
  // from bytes, so its first round of lookups never touches the hash table.
  Rank byte_rank(uint8_t b) const { return byte_rank_[b]; }
  Rank byte_pair_rank(uint8_t a, uint8_t b) const { return byte_pair_rank_[(size_t(a) << 8) | b]; }

  bool contains_rank(Rank r) const { return r < offsets_.size() - 1 && offsets_[r] != offsets_[r + 1]; }
  // Precondition: contains_rank(r).
  std::string_view token_bytes(Rank r) const {
    return std::string_view(arena_.data() + offsets_[r], offsets_[r + 1] - offsets_[r]);
  }
  size_t size() const { return size_; }
  // Where the ranks came from (file name), for error messages.
  const std::string& source() const { return source_; }
  // One past the highest rank (what tiktoken's n_vocab counts before special tokens).
  Rank rank_limit() const { return offsets_.empty() ? 0 : Rank(offsets_.size() - 1); }

 private:
  // Open addressing, linear probing. `head` holds up to the first 8 bytes of the token (see key_head), so
  // for short tokens (most of them) equality is `head == && len ==` without touching the arena.
  struct Slot {
    uint64_t head;
    uint32_t len;  // 0 = empty slot (tokens are never empty)
    Rank rank;
  };

  // A one-bit-per-hash filter over all tokens (2^21 bits, 256 KiB: stays in L2). Many keys BPE asks about
  // are not tokens, and the filter answers most of those from L2 instead of a trip to the megabytes of
  // slots (performance notes at the top). Its bit comes from the hash's top bits; the slot from its
  // bottom bits.
  static constexpr int kFilterBits = 21;
  // Probe::hash keeps all but the top bit, so it never equals kAbsent. Tables have far fewer than 2^63
  // slots, so the slot is unaffected.
  static constexpr uint64_t kHashBits = ~uint64_t(0) >> 1;
  static uint64_t filter_bit(uint64_t hash) { return hash >> (64 - kFilterBits); }
  bool might_contain(uint64_t hash) const {
    const uint64_t bit = filter_bit(hash);
    return !filter_.empty() && ((filter_[bit >> 6] >> (bit & 63)) & 1);
  }

  // A key of over 8 bytes is compared with its slot's tail too, so that line is fetched with the slot's.
  void prefetch_slot(uint64_t slot, size_t n) const {
    __builtin_prefetch(&slots_[slot]);
    if (n > 8) __builtin_prefetch(&tails_[slot]);
  }

  // The first min(n, 8) bytes of the key as a little-endian integer, zero above (n > 0).
  static uint64_t key_head(const char* p, size_t n) {
    uint64_t h = 0;
    if constexpr (std::endian::native != std::endian::little) {
      for (size_t i = 0; i < n && i < 8; ++i) h |= uint64_t(uint8_t(p[i])) << (8 * i);
    } else if (n >= 8) {
      std::memcpy(&h, p, 8);
    } else if (n >= 4) {  // two overlapping 4-byte loads; the bytes they share are equal, so OR is exact
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      h = lo | (uint64_t(hi) << (8 * (n - 4)));
    } else {  // bytes 0, n/2 and n-1 cover every byte of a 1-3 byte key
      h = uint64_t(uint8_t(p[0])) | (uint64_t(uint8_t(p[n / 2])) << (8 * (n / 2))) |
          (uint64_t(uint8_t(p[n - 1])) << (8 * (n - 1)));
    }
    return h;
  }
  // key_head when 8 bytes at p are readable.
  static uint64_t key_head_wide(const char* p, size_t n) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native != std::endian::little) return key_head(p, n);
    return n >= 8 ? w : w & ~(~uint64_t(0) << (8 * n));
  }
  // key_head, by the wide load when 8 bytes from the key's start are below readable_end.
  static uint64_t key_head(std::string_view bytes, const char* readable_end) {
    return readable_end - bytes.data() >= 8 ? key_head_wide(bytes.data(), bytes.size())
                                            : key_head(bytes.data(), bytes.size());
  }
  // Mixes the head, the length and (for longer keys) the last 8 bytes; the bytes between take part only
  // in the final compare. Branch-free for keys of up to 8 bytes, most of what is looked up.
  static uint64_t hash_bytes(const char* p, size_t n, uint64_t head) {
    uint64_t h = head ^ (uint64_t(n) * 0x9E3779B97F4A7C15ull);
    if (n > 8) {
      uint64_t tail;
      std::memcpy(&tail, p + n - 8, 8);
      h = (h ^ tail) * 0xbf58476d1ce4e5b9ull;
      h ^= h >> 29;
    }
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 32);
  }

  // For an n-byte key (n > 8) whose head and length match slot i: are bytes 8..n equal too? The slot's
  // tail (the token's last 8 bytes) settles tokens of up to 16 bytes, most of those that get here, without
  // reading the arena: that read was two dependent cache misses (the offset, then the bytes).
  bool rest_equal(uint64_t i, const char* key, size_t n) const {
    uint64_t tail;
    std::memcpy(&tail, key + n - 8, 8);
    if (tails_[i] != tail) return false;
    return n <= 16 || std::memcmp(arena_.data() + offsets_[slots_[i].rank] + 8, key + 8, n - 16) == 0;
  }

  Status insert_all(std::vector<std::pair<std::string, Rank>>& ranks, std::string_view source,
                    const std::vector<size_t>* lines);

  std::vector<Slot, detail::TableAllocator<Slot>> slots_;
  // tails_[i]: the last 8 bytes of slot i's token if it is longer than 8 bytes. A parallel array, not a
  // wider slot, so the lookups of short keys (most of them) keep four slots per cache line.
  std::vector<uint64_t, detail::TableAllocator<uint64_t>> tails_;
  std::vector<uint64_t> filter_;
  uint64_t mask_ = 0;
  std::string arena_;              // all token bytes, in rank order
  std::vector<uint32_t> offsets_;  // rank -> start in arena_; offsets_[r+1]-offsets_[r] = length (0 = no such rank)
  size_t size_ = 0;
  std::string source_;
  Rank byte_rank_[256] = {};
  std::vector<Rank> byte_pair_rank_;
};

inline Rank Vocabulary::find_or_none(std::string_view bytes) const {
  if (bytes.empty() || slots_.empty()) return kNoRank;
  const uint64_t head = key_head(bytes.data(), bytes.size());
  const uint64_t hash = hash_bytes(bytes.data(), bytes.size(), head);
  return find_probed(bytes, Probe{head, might_contain(hash) ? hash & kHashBits : kAbsent});
}

inline Rank Vocabulary::find_probed(std::string_view bytes, Probe probe) const {
  if (probe.hash == kAbsent) return kNoRank;
  const size_t n = bytes.size();
  const uint64_t head = probe.head;
  for (uint64_t i = probe.hash & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.len == 0) return kNoRank;
    if (s.head == head && s.len == n && (n <= 8 || rest_equal(i, bytes.data(), n))) {
      return s.rank;
    }
  }
}

// Standard base64 (RFC 4648, with padding), as tiktoken files use.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tokenmill
