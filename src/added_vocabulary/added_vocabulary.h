// Added-vocabulary stage: finds the added tokens (special or not) in a text before the model sees it.
//
// Matching is leftmost-longest over all tokens of one pass, as HF's Aho-Corasick automaton: the match that
// starts first wins, and of those the longest. Tokens with normalized=false are matched on the raw text
// (first pass); tokens with normalized=true on each remaining segment after the normalizer (second pass),
// by their normalized content. single_word drops a match next to a word character (Rust regex's \w);
// lstrip / rstrip extend the match over the whitespace before / after it. With HF's encode_special_tokens a
// special token's match is dropped where it is found, so its text goes on as text and is not searched again
// for other added tokens (HF skips the automaton's match; the search resumes after it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/tokenizer.h"
#include "util/byte_set.h"

namespace tokenmill::hf {

struct AddedSegment {
  std::optional<uint32_t> id;  // an added token, or text for the next stages
  Offsets range;
};

class AddedMatcher {
 public:
  struct Pattern {
    std::string text;  // what is searched for
    uint32_t id;
    bool lstrip, rstrip, single_word;
    bool special;  // some special added token has this text (HF's special_tokens_set holds contents)
  };
  explicit AddedMatcher(std::vector<Pattern> patterns);
  bool empty() const { return patterns_.empty(); }

  // HF's find_matches: `text` cut into added tokens and the text between them, tiling it. With
  // `encode_special_tokens` the special tokens' matches are text (HF's setting of that name).
  void split(std::string_view text, std::vector<AddedSegment>& out, bool encode_special_tokens = false) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, uint32_t>> edges;  // sorted by byte
    int32_t pattern = -1;
  };
  // Longest pattern starting at text[pos], or -1.
  int32_t longest_at(std::string_view text, size_t pos) const;
  std::vector<Pattern> patterns_;
  std::vector<Node> trie_;
  util::ByteSet first_bytes_;
};

// Rust regex's Unicode \w, for single_word.
bool is_word_char(uint32_t code_point);

}  // namespace tokenmill::hf
