// Pre-tokenizer stage: cuts a normalized segment into the pieces the model encodes one at a time.
//
// A pre-tokenizer refines a list of splits (byte ranges of the segment, in order): each split is cut
// further or kept. Empty splits are dropped, as HF drops empty pieces.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pre_tokenizers/hf_regex.h"
#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual Status pre_tokenize(std::string_view text, std::vector<Offsets>& splits) const = 0;
  // True for ByteLevel (alone or inside a Sequence): the model then sees each byte as one symbol, and its
  // vocabulary is written in the byte-to-character alphabet of GPT-2.
  virtual bool byte_level() const { return false; }
};

// HF's SplitDelimiterBehavior.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Split with a regex (HF/Oniguruma semantics) or a literal string; `invert` swaps matched and unmatched.
std::unique_ptr<PreTokenizer> make_split_regex(HfRegex regex, SplitBehavior behavior, bool invert);
Result<std::unique_ptr<PreTokenizer>> make_split_string(std::string_view literal, SplitBehavior behavior, bool invert);
// ByteLevel without add_prefix_space; use_regex splits with GPT-2's pattern first.
Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool use_regex);
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts);

// The pieces of `text` under one behaviour, from find_matches' (range, matched) list: HF's split logic.
void apply_behavior(std::vector<std::pair<Offsets, bool>>& matches, SplitBehavior behavior, bool invert,
                    std::vector<Offsets>& out);

// GPT-2's byte -> character map (printable bytes map to themselves, the rest to U+0100 up).
const std::string& byte_level_char(uint8_t b);  // UTF-8 of the character for byte b
// The byte a character of that alphabet stands for, or -1.
int byte_level_byte(uint32_t code_point);

}  // namespace tokenmill::hf
