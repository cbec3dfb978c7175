// Where a text may be cut so that its parts can be pre-tokenized (and so encoded) on separate threads.
//
// The rules, for every built-in pattern family (r50k, cl100k, gpt4, nanochat, qwen2, o200k, deepseek_v3): c is a cut if
//   (W) text[c-1] is an ASCII letter and text[c] is a space, or
//   (L) text[c-2] is printable ASCII other than space (0x21..0x7E), text[c-1] is '\n', text[c] is an ASCII letter.
//
// What a cut needs: (1) a piece of the whole text ends at c, (2) the pieces before c are the same when the text
// ends at c, (3) the pieces from c on are the same when the text starts at c. (3) always holds: none of the
// patterns looks behind its start, so once a piece starts at c the rest depends on text[c, end) alone.
//
// Rule W. (1) An ASCII letter is matched only by the letter alternatives (`[^\r\n\p{L}\p{N}]?+\p{L}++`,
// ` ?\p{L}++`, o200k's two case-shaped runs) or as the last letters of a contraction (`'(?i:[sdmt]|ll|ve|re)`,
// o200k's suffix). A letter run ends at the first character that is not a letter (or, in o200k, a mark), and
// o200k's contraction suffix starts with an apostrophe; a space is neither, so the piece holding c-1 ends at c.
// (2) An alternative tried at s < c reads text[c] only to find where a letter run or contraction ends, and
// "a space" and "the end of the text" end them alike; whitespace and punctuation alternatives cannot take the
// letter at c-1, so they stop before c in both texts.
//
// Rule L. (1) A piece that contains the '\n' at c-1 is a run of whitespace (`\s+(?!\S)`, `\s*[\r\n]`, `\s++$`,
// `\s`, o200k's `\s*[\r\n]+`, `\s+`) or punctuation followed by a tail of line breaks
// (` ?[^\s\p{L}\p{N}]++[\r\n]*+`, o200k's `[\r\n/]*`); neither can take the letter at c. The letter
// alternatives cannot contain '\n': their optional prefix is `[^\r\n\p{L}\p{N}]` (cl100k, o200k) or ` ` (r50k).
// Every character is matched by some alternative, so the piece containing c-1 ends exactly at c.
// (2) An alternative tried at s < c can read text[c] or test `$` / `(?!\S)` there only after consuming the '\n'
// at c-1. For s <= c-2 a whitespace alternative would first have to consume text[c-2], which is not
// whitespace; so only the punctuation-with-line-break-tail alternative gets there, and its tail stops at c both
// before a letter and at the end of the text. Every earlier alternative at s reads at most up to c-1, which both
// texts share. For s = c-1 (the '\n' alone) the whole text gives "\n" (`\s*[\r\n]`, or `\s` in r50k, after
// `\s++$` and `\s+(?!\S)` fail on the letter) and the cut text gives "\n" (`\s++$` or `\s*[\r\n]`). This is
// why text[c-2] must not be whitespace: in r50k, " \n" before a letter is " ", "\n" but at the end one piece.
//
// The bytes a rule tests are ASCII, so a cut never falls inside a character and valid UTF-8 stays valid in each part.
// tests/pretokenize_test.cc checks this against PCRE2 running each pattern on random texts dense in cuts
// next to every character class.
//
// DeepSeek V3 (three Splits: digit groups, CJK runs, then a third pattern) obeys both rules too: the first two
// Splits never take an ASCII letter, a space or a '\n', so the text around a cut reaches the third pattern as it
// is; its letter alternatives (`[<ASCII punctuation>][A-Za-z]+`, `[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+`)
// end at a space, and a '\n' is taken only by `\s*[\r\n]+` or a punctuation run's `[\r\n]*` tail, which
// stop before a letter and at the end alike (it has no `\s++$`, so it needs less than the rule L asks).
// tests/pre_tokenizers_test.cc checks the cuts against its three Splits run by the HF regex stage.
#include <algorithm>

#include "tokenmill/pretokenize.h"

namespace tokenmill {

namespace {
bool is_ascii_letter(unsigned char c) { return unsigned((c | 0x20) - 'a') < 26; }
bool is_printable_non_space(unsigned char c) { return c >= 0x21 && c <= 0x7E; }
}  // namespace

size_t Pretokenizer::find_cut(std::string_view text, size_t from, size_t to) const {
  if (kind_ == Kind::kRegex) return std::string_view::npos;  // no proof for an arbitrary pattern
  to = std::min(to, text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t c = std::max<size_t>(from, 2); c < to; ++c) {
    if (p[c] == ' ' && is_ascii_letter(p[c - 1])) return c;                                       // W
    if (p[c - 1] == '\n' && is_ascii_letter(p[c]) && is_printable_non_space(p[c - 2])) return c;  // L
  }
  return std::string_view::npos;
}

}  // namespace tokenmill
