// Where a text may be cut so that its parts can be pre-tokenized (and so encoded) on separate threads.
//
// The rule, for every built-in pattern family (r50k, cl100k, gpt4, nanochat, o200k): c is a cut if
//   text[c-2] is printable ASCII other than space (0x21..0x7E), text[c-1] is '\n', text[c] is an ASCII letter.
//
// Proof that the pieces of the whole text are the pieces of text[0, c) followed by those of text[c, end):
//  1. No piece of the whole text spans c. A piece that contains the '\n' at c-1 is one of: a run of
//     whitespace (`\s+(?!\S)`, `\s*[\r\n]`, `\s++$`, `\s`, o200k's `\s*[\r\n]+`, `\s+`), or punctuation
//     followed by a tail of line breaks (` ?[^\s\p{L}\p{N}]++[\r\n]*+`, o200k's `[\r\n/]*`). Neither can take
//     the letter at c. The letter alternatives cannot contain '\n' at all: their optional prefix is
//     `[^\r\n\p{L}\p{N}]` (cl100k, o200k) or ` ` (r50k). Every character is matched by some alternative, so
//     the piece containing c-1 ends exactly at c, and a piece starts at c.
//  2. The pieces that start before c are the same when the text ends at c. An alternative tried at a start
//     s < c can read text[c] or test `$` / `(?!\S)` there only after it has consumed the '\n' at c-1.
//     For s <= c-2 a whitespace alternative would first have to consume text[c-2], which is not whitespace;
//     so only the punctuation-with-line-break-tail alternative gets there, and its tail stops at c both
//     when text[c] is a letter and at the end of the text. Every earlier alternative at s reads at most up
//     to c-1, which both texts share, so it fails or succeeds the same way. For s = c-1 (the '\n' alone) the
//     whole text gives "\n" (`\s*[\r\n]`, or `\s` in r50k, after `\s++$` and `\s+(?!\S)` fail on the letter)
//     and the cut text gives "\n" (`\s++$` or `\s*[\r\n]`): the same piece. This is why text[c-2] must not
//     be whitespace: in r50k, " \n" before a letter is " ", "\n" but " \n" at the end is one piece.
//  3. The pieces from c on are the same in text[c, end): none of the patterns looks behind its start.
// All three bytes are ASCII, so a cut never falls inside a character and valid UTF-8 stays valid in each part.
// tests/pretokenize_test.cc checks this against PCRE2 running each pattern on random texts dense in cuts
// next to every character class.
#include <cstring>

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
  // The '\n' at c-1 for c in [max(from, 2), to).
  size_t nl = std::max<size_t>(from, 2) - 1;
  while (nl + 1 < to) {
    const void* hit = std::memchr(p + nl, '\n', to - 1 - nl);
    if (!hit) break;
    nl = size_t(static_cast<const unsigned char*>(hit) - p);
    if (is_ascii_letter(p[nl + 1]) && is_printable_non_space(p[nl - 1])) return nl + 1;
    ++nl;
  }
  return std::string_view::npos;
}

}  // namespace tokenmill
