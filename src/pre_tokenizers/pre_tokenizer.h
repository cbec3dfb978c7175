// Pre-tokenizer stage: cuts a normalized segment into the pieces the model encodes one at a time.
//
// A pre-tokenizer refines a list of splits (byte ranges of the segment's normalized text, in order): each
// split is cut further or kept. Empty splits are dropped, as HF drops empty pieces. A few (Metaspace,
// ByteLevel's add_prefix_space) also rewrite the text of the splits; they say so with edits_text(), and
// the caller then hands them one segment at a time (they drop the text between splits).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "normalizers/normalizer.h"
#include "pre_tokenizers/hf_regex.h"
#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual Status pre_tokenize(NormalizedString& s, std::vector<Offsets>& splits) const = 0;
  virtual bool edits_text() const { return false; }
  // True for ByteLevel (alone or inside a Sequence): the model then sees each byte as one symbol, and its
  // vocabulary is written in the byte-to-character alphabet of GPT-2.
  virtual bool byte_level() const { return false; }
};

// HF's SplitDelimiterBehavior.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Split with a regex (HF/Oniguruma semantics) or a literal string; `invert` swaps matched and unmatched.
std::unique_ptr<PreTokenizer> make_split_regex(HfRegex regex, SplitBehavior behavior, bool invert);
Result<std::unique_ptr<PreTokenizer>> make_split_string(std::string_view literal, SplitBehavior behavior, bool invert);
// ByteLevel: add_prefix_space puts a space before every split that lacks one; use_regex then splits with
// GPT-2's pattern.
Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool add_prefix_space, bool use_regex);

// Metaspace: spaces become `replacement`, which is put before a split that does not start with it (every
// split, only the one at the start of the input, or none); `split` then cuts before each replacement.
enum class PrependScheme { kAlways, kFirst, kNever };
Result<std::unique_ptr<PreTokenizer>> make_metaspace(std::string replacement, PrependScheme scheme, bool split);
// Digits: each number character (Nd, Nl, No: Rust's char::is_numeric) alone, or runs of them together.
Result<std::unique_ptr<PreTokenizer>> make_digits(bool individual_digits);
// Whitespace: runs of word characters (Rust regex's \w) and runs of other non-space characters; spaces go.
std::unique_ptr<PreTokenizer> make_whitespace();
// WhitespaceSplit: the text between White_Space characters.
Result<std::unique_ptr<PreTokenizer>> make_whitespace_split();
// Punctuation: ASCII punctuation and General_Category P, each character a delimiter under `behavior`.
Result<std::unique_ptr<PreTokenizer>> make_punctuation(SplitBehavior behavior);
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts);

// The pieces of `text` under one behaviour, from find_matches' (range, matched) list: HF's split logic.
void apply_behavior(std::vector<std::pair<Offsets, bool>>& matches, SplitBehavior behavior, bool invert,
                    std::vector<Offsets>& out);

// GPT-2's byte -> character map (printable bytes map to themselves, the rest to U+0100 up).
const std::string& byte_level_char(uint8_t b);  // UTF-8 of the character for byte b
// The byte a character of that alphabet stands for, or -1.
int byte_level_byte(uint32_t code_point);

}  // namespace tokenmill::hf
