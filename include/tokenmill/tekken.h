// Mistral's Tekken tokenizer files (`tekken.json`, as PyPI mistral-common ships them, e.g.
// tekken_240911.json), with exactly mistral-common's ids.
//
//   auto tekken = tokenmill::Tekken::from_file("tekken_240911.json");
//   if (!tekken.ok()) { /* tekken.error() names the file and the field */ }
//   auto ids = tekken->encode("Hello world", /*bos=*/true, /*eos=*/false);   // [1, 22177, 4304]
//   auto text = tekken->decode(*ids);                                       // "Hello world"
//
// A Tekken file is a tiktoken vocabulary (base64 token bytes by rank), a split pattern and a count of
// special tokens that take the first ids: mistral-common's Tekkenizer runs tiktoken on the first
// `default_vocab_size - default_num_special_tokens` tokens and adds `default_num_special_tokens` to every
// id. Here that is one Encoding whose ranks are already offset: BPE only compares ranks, and adding the
// same number to all of them changes no comparison, so its ids are mistral-common's without a second pass.
// The special tokens are that Encoding's special tokens (ids 0..num_special_tokens-1), named as in the
// file, or for files of version v7 and older (which list none) mistral-common's built-in list padded with
// `<SPECIAL_i>`. As in mistral-common, text is never searched for special tokens: "<s>" in the input is
// ordinary text.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/status.h"

namespace tokenmill {

class Tekken {
 public:
  static Result<Tekken> from_file(const std::string& path);
  static Result<Tekken> from_string(std::string_view json, std::string_view source_name = "tekken.json");

  // mistral-common's Tekkenizer.encode(text, bos, eos): bos prepends the id of "<s>", eos appends that of
  // "</s>" (an error if the file has no such special token).
  Result<std::vector<uint32_t>> encode(std::string_view text, bool bos, bool eos) const;

  // mistral-common's SpecialTokenPolicy: drop special tokens (its default), write their text, or fail.
  enum class SpecialTokenPolicy { kIgnore, kKeep, kRaise };
  // mistral-common's Tekkenizer.decode: each run of ordinary ids decoded on its own, invalid UTF-8 replaced
  // by U+FFFD as Python's errors="replace" does. An id at or above vocab_size() is an error naming it.
  Result<std::string> decode(std::span<const uint32_t> ids,
                             SpecialTokenPolicy policy = SpecialTokenPolicy::kIgnore) const;

  // The tiktoken-compatible Encoding behind it: encode_ordinary gives the same ids as encode(text, false,
  // false); its decode writes special tokens' text (kKeep).
  const Encoding& encoding() const { return encoding_; }

  uint32_t num_special_tokens() const { return uint32_t(specials_.size()); }
  // All ids: special tokens plus the vocabulary kept (mistral-common's n_words).
  uint32_t vocab_size() const { return vocab_size_; }
  // The file's config.version, e.g. "v3".
  const std::string& version() const { return version_; }
  std::optional<uint32_t> special_token_id(std::string_view token) const;
  // The special token with this id (id < num_special_tokens()).
  const std::string& special_token(uint32_t id) const { return specials_[id]; }

 private:
  static Result<Tekken> parse(std::string_view json, std::string_view source);
  Tekken(Encoding encoding, std::vector<std::string> specials, uint32_t vocab_size, std::string version)
      : encoding_(std::move(encoding)),
        specials_(std::move(specials)),
        vocab_size_(vocab_size),
        version_(std::move(version)) {}

  Encoding encoding_;
  std::vector<std::string> specials_;  // by id
  uint32_t vocab_size_;
  std::string version_;
};

}  // namespace tokenmill
