// Model stage: one pre-tokenized piece to tokens. BPE with an explicit merge list (HF's model.type "BPE").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenmill/status.h"
#include "util/string_id_map.h"

namespace tokenmill::hf {

// A token of a piece: its id and the bytes [begin, end) of the piece it covers.
struct ModelToken {
  uint32_t id;
  uint32_t begin, end;
};

struct BpeConfig {
  // token (as written in tokenizer.json) -> id, and merges (left, right) in priority order. Views, read only
  // by BpeModel::create (the model keeps its own copy of the tokens): the loader points them into the parsed
  // document instead of copying hundreds of thousands of strings to build the model from.
  std::vector<std::pair<std::string_view, uint32_t>> vocab;
  std::vector<std::pair<std::string_view, std::string_view>> merges;
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  // The pre-tokenizer is ByteLevel: tokens are written in GPT-2's byte alphabet, and the model reads each
  // byte of a piece as one symbol. Otherwise a symbol is one UTF-8 character.
  bool byte_level = false;
};

// HF's BPE: a piece starts as one symbol per unit (byte or character, with the continuing-subword prefix on
// all but the first and the end-of-word suffix on the last); then, repeatedly, the adjacent pair listed
// earliest in the merges (leftmost on ties) becomes the merge's token. Only listed pairs merge: a pair
// whose concatenation is a token but not a merge stays apart. That is why this is not the tiktoken-style
// `byte_pair_encode` (rank = id, any adjacent pair that forms a token merges).
class BpeModel {
 public:
  // Errors name the merge (index and text) or the token that is missing, and the duplicate id.
  static Result<BpeModel> create(BpeConfig config);

  // Appends the tokens of `piece` (non-empty).
  void tokenize(std::string_view piece, std::vector<ModelToken>& out) const;
  // The same tokens' ids, without the per-thread cache (for a caller that keeps its own).
  void tokenize_ids(std::string_view piece, std::vector<uint32_t>& out) const;
  // tokenize_ids for a piece the caller knows is no token of the vocabulary: ignore_merges' whole-piece
  // lookup is skipped.
  void merge_ids(std::string_view piece, std::vector<uint32_t>& out) const;

  const BpeConfig& config() const { return config_; }  // its vocab and merges are empty once built
  // Each token of the vocabulary as the bytes the model reads (raw bytes for byte-level) -> id.
  const util::StringIdMap& unit_vocab() const { return config_.byte_level ? byte_vocab_ : json_vocab_; }

  std::optional<uint32_t> token_to_id(std::string_view token) const { return json_vocab_.find(token); }
  // The token as written in tokenizer.json; nullopt if the model has no such id.
  std::optional<std::string_view> id_to_token(uint32_t id) const;
  size_t vocab_size() const { return json_vocab_.size(); }
  const util::StringIdMap& vocab() const { return json_vocab_; }

 private:
  struct Merge {
    uint32_t rank;
    uint32_t new_id;
  };
  // (left id, right id) -> merge, open addressing with linear probing at most three quarters full. A BPE run is a chain
  // of these lookups, and the node-based std::unordered_map cost a cache miss per node: it was a quarter of
  // the load time of GPT-4o's file (the load runs BPE over every token) and most of a run's time.
  class PairTable {
   public:
    void reserve(size_t n);
    void insert_or_assign(uint32_t a, uint32_t b, Merge m);
    const Merge* find(uint32_t a, uint32_t b) const {
      const uint64_t key = (uint64_t(a) << 32) | b;
      if (!might_contain(key)) return nullptr;
      for (size_t i = slot(key);; i = (i + 1) & mask_) {
        const Slot& s = slots_[i];
        if (s.merge.rank == kEmpty) return nullptr;
        if (s.key == key) return &s.merge;
      }
    }

   private:
    static constexpr uint32_t kEmpty = UINT32_MAX;  // no merge has this rank: there are fewer merges
    struct Slot {
      uint64_t key;
      Merge merge{kEmpty, 0};
    };
    size_t slot(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }
    // One bit per key under a second hash, about 8 bits per merge (at most 256 KiB, so it stays in L2 where
    // the 8 MiB of slots do not): most pairs a BPE run asks about have no merge, and the filter proves that
    // without touching the slots.
    size_t filter_bit(uint64_t key) const { return size_t((key * 0xD6E8FEB86659FD93ull) >> filter_shift_); }
    bool might_contain(uint64_t key) const {
      const size_t bit = filter_bit(key);
      return (filter_[bit >> 6] >> (bit & 63)) & 1;
    }
    std::vector<Slot> slots_{1};
    size_t mask_ = 0;
    std::vector<uint64_t> filter_ = std::vector<uint64_t>(1, ~uint64_t(0));  // before reserve(): all "maybe"
    unsigned filter_shift_ = 63;
  };
  const Merge* find_merge(uint32_t a, uint32_t b) const { return merges_.find(a, b); }
  // Key of a unit or token in the space the model reads (raw bytes for byte-level).
  std::optional<uint32_t> unit_id(std::string_view key) const { return unit_vocab().find(key); }

  void tokenize_uncached(std::string_view piece, std::vector<ModelToken>& out) const;
  // tokenize_ids for a byte-level piece whose bytes are all tokens: one array, scanned for the lowest pair.
  void tokenize_short_bytes(std::string_view piece, std::vector<uint32_t>& out) const;
  // Up to 128 bytes (pieces of CJK and other multi-byte scripts run long): against 32, which sent those
  // pieces through tokenize_uncached, 4-5% less CPU for llama3 on 32 MB of en.txt and of multi.txt.
  static constexpr size_t kShortPiece = 128;
  static constexpr size_t kShortUnits = 64;
  // A unit of tokenize_uncached: its token and bytes, linked to its neighbours for the heap's merges.
  struct UnitSymbol {
    uint32_t id;
    uint32_t begin, len;
    int32_t prev, next;
  };
  // tokenize_uncached's merges for at most kShortUnits units (measured on gemma3: 64 beat 32 and 128).
  void merge_short(std::vector<UnitSymbol>& syms, std::vector<ModelToken>& out) const;

  BpeConfig config_;
  uint64_t cache_id_ = 0;         // tells this model's entries in the per-thread piece cache from another model's
  util::StringIdMap json_vocab_;  // as written in tokenizer.json
  util::StringIdMap byte_vocab_;  // byte-level: the tokens as raw bytes (else the model reads json_vocab_)
  // id -> its entry in json_vocab_: an array when the ids are about as many as the tokens (every file
  // seen), else a map, so a file with one huge id still loads.
  static constexpr uint32_t kNoEntry = UINT32_MAX;
  std::vector<uint32_t> entry_of_id_;
  std::unordered_map<uint32_t, uint32_t> sparse_entry_of_id_;
  PairTable merges_;
  uint32_t byte_ids_[256];  // byte-level: each byte's token, or UINT32_MAX
  // Not byte-level, no prefix or suffix: each ASCII character's token, or UINT32_MAX (a unit lookup without
  // hashing for the characters most text is made of).
  uint32_t ascii_ids_[128];
  // byte-level: the merge of the tokens of bytes (a, b) at [a * 256 + b] (rank UINT32_MAX: none). A piece's
  // first pairs are all byte pairs; this 512 KiB table answers them from L2 instead of the pair table's
  // megabytes.
  std::vector<Merge> byte_pairs_;
  std::optional<uint32_t> unk_id_;
  uint32_t byte_fallback_ids_[256];
  bool byte_fallback_complete_ = false;
};

// A tokenizer.json token in GPT-2's byte alphabet back to bytes; nullopt if a character is outside it.
std::optional<std::string> byte_level_decode(std::string_view token);

}  // namespace tokenmill::hf
