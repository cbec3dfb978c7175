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

namespace tokenmill::hf {

// A token of a piece: its id and the bytes [begin, end) of the piece it covers.
struct ModelToken {
  uint32_t id;
  uint32_t begin, end;
};

struct BpeConfig {
  // token (as written in tokenizer.json) -> id, and merges (left, right) in priority order.
  std::vector<std::pair<std::string, uint32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
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

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  // The token as written in tokenizer.json; nullptr if the model has no such id.
  const std::string* id_to_token(uint32_t id) const;
  size_t vocab_size() const { return json_vocab_.size(); }
  const std::unordered_map<std::string, uint32_t>& vocab() const { return json_vocab_; }

 private:
  struct Merge {
    uint32_t rank;
    uint32_t new_id;
  };
  static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }
  const Merge* find_merge(uint32_t a, uint32_t b) const {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }
  // Key of a unit or token in the space the model reads (raw bytes for byte-level).
  std::optional<uint32_t> unit_id(std::string_view key) const {
    auto it = unit_vocab_.find(std::string(key));
    return it == unit_vocab_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }

  void tokenize_uncached(std::string_view piece, std::vector<ModelToken>& out) const;

  BpeConfig config_;
  uint64_t cache_id_ = 0;  // tells this model's entries in the per-thread piece cache from another model's
  std::unordered_map<std::string, uint32_t> json_vocab_;
  std::unordered_map<std::string, uint32_t> unit_vocab_;
  std::unordered_map<uint32_t, std::string> tokens_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<uint32_t> unk_id_;
  uint32_t byte_fallback_ids_[256];
  bool byte_fallback_complete_ = false;
};

// A tokenizer.json token in GPT-2's byte alphabet back to bytes; nullopt if a character is outside it.
std::optional<std::string> byte_level_decode(std::string_view token);

}  // namespace tokenmill::hf
