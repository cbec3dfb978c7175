// Normalizer stage: rewrites a segment of the input text (NFC, lowercase, ...) and keeps, for every byte
// of the result, the range of the original text it came from, so tokens get offsets into the original.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pre_tokenizers/hf_regex.h"
#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

// A segment of the original text and what the normalizers made of it. Until a normalizer changes the text,
// `alignments` is empty and each byte maps to the original character that holds it (identity).
struct NormalizedString {
  std::string original;  // the segment, as cut from the input
  uint32_t base = 0;     // where the segment starts in the whole input
  std::string normalized;
  // alignments[i]: original range (relative to the segment) of normalized byte i; empty while identity.
  std::vector<Offsets> alignments;

  static NormalizedString identity(std::string_view segment, uint32_t base) {
    return NormalizedString{std::string(segment), base, std::string(segment), {}};
  }
  // Original range (in the whole input) of normalized bytes [begin, end), begin < end: from the first byte's
  // alignment start to the last byte's alignment end, as HF's convert_offsets.
  Offsets original_offsets(uint32_t begin, uint32_t end) const;
  // Normalized bytes [begin, end) as a string of their own, aligned to the same original.
  NormalizedString slice(Offsets range) const;
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

// The Unicode normalization forms (16.0), with HF's alignments.
std::unique_ptr<Normalizer> make_nfc_normalizer();
std::unique_ptr<Normalizer> make_nfd_normalizer();
std::unique_ptr<Normalizer> make_nfkc_normalizer();
std::unique_ptr<Normalizer> make_nfkd_normalizer();
// True when NFC certainly leaves `text` (valid UTF-8) as it is: every character is a starter that no
// composition takes as its second part and that NFC maps to itself (UAX #15's NFC_Quick_Check=Yes, made
// stricter so that it needs no context). False: it may change, normalize it.
bool nfc_unchanged(std::string_view text);

// Each character to its lowercase (Rust's char::to_lowercase: no context, so no final sigma).
std::unique_ptr<Normalizer> make_lowercase_normalizer();
// Removes leading and/or trailing whitespace (the White_Space property, Rust's char::is_whitespace).
std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right);
// Puts `prefix` before a non-empty text, aligned like its first character.
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix);

// Rewrites s from a list of (character, change) as HF's NormalizedString::transform: change 0 replaces the
// next character of s, +1 inserts (aligned like the character before), -n replaces and removes n more.
// The first `initial_offset` characters of s are removed first.
void apply_changes(NormalizedString& s, const std::vector<std::pair<uint32_t, int>>& dest, size_t initial_offset = 0);

// Every match of `pattern` (HF regex semantics; a literal is an escaped regex) becomes `content`.
std::unique_ptr<Normalizer> make_replace_normalizer(HfRegex pattern, std::string content);

// The alignments of an unchanged text: each byte maps to the character that holds it.
std::vector<Offsets> identity_alignments(std::string_view text);

// Applies each in turn; an empty sequence changes nothing.
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> parts);

}  // namespace tokenmill::hf
