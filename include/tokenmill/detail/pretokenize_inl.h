// The specialised scanners behind Pretokenizer. Each `*_piece_end` returns where the regex match that
// starts at `p` ends, deciding the pattern's alternatives in order exactly as a backtracking engine would,
// but from facts gathered in one forward scan (so no input makes them quadratic or recursive).
//
// Conventions: p < end always; class_at() never reads past end; every scanner consumes >= 1 byte, so a
// caller's loop always terminates. Classes: L = letter, N = number, S = \s (White_Space), NL = \r or \n,
// P = not S, not L, not N (punctuation, symbols, marks, controls, invalid bytes).
#pragma once

#include <cstddef>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tokenmill/detail/unicode_class.h"

namespace tokenmill::detail {

using uchar = unsigned char;

// Skips ASCII letters ([A-Za-z], or with lower_only [a-z]) 16 bytes at a time; returns the first byte that
// is not one (or a position within 15 bytes of end, for the scalar loop to finish). Words in real text are a
// few letters long, so a byte loop ends in a mispredicted branch at nearly every word; here the end of the
// run is a count of trailing ones in a mask, and the loop branch is almost always "done".
[[gnu::always_inline]] inline const uchar* skip_ascii_letters(const uchar* p, const uchar* end, bool lower_only) {
#if defined(__SSE2__)
  const __m128i case_bit = _mm_set1_epi8(lower_only ? 0 : 0x20);
  const __m128i before_a = _mm_set1_epi8('a' - 1);
  const __m128i after_z = _mm_set1_epi8('z' + 1);
  while (end - p >= 16) {
    const __m128i folded = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), case_bit);
    // Signed compares: bytes >= 0x80 are negative, so never letters here (the caller decodes them).
    const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, before_a), _mm_cmplt_epi8(folded, after_z));
    const unsigned run = unsigned(_mm_movemask_epi8(letter)) ^ 0xFFFFu;
    if (run != 0) return p + __builtin_ctz(run);
    p += 16;
  }
#else
  (void)end;
  (void)lower_only;
#endif
  return p;
}

[[gnu::always_inline]] inline const uchar* skip_while(const uchar* p, const uchar* end, uint8_t mask) {
  // The masks the scanners pass are constants, so at most one of these survives inlining.
  if (mask == kLetter) p = skip_ascii_letters(p, end, false);
  if (mask == kLowerish) p = skip_ascii_letters(p, end, true);
  if (mask == (kLetter | kMark)) p = skip_ascii_letters(p, end, false);  // ASCII has no marks
  // ASCII first: one table load per byte; a non-ASCII byte (class 0 in kByteClass) ends this loop and the
  // general loop below decodes it.
  while (p < end && (kByteClass[*p] & mask)) ++p;
  if (p == end || *p < 0x80) return p;
  while (p < end) {
    size_t len;
    if (!(class_at(p, end, &len) & mask)) break;
    p += len;
  }
  return p;
}

[[gnu::always_inline]] inline const uchar* skip_while_not(const uchar* p, const uchar* end, uint8_t mask) {
  while (p < end) {
    size_t len;
    if (class_at(p, end, &len) & mask) break;
    p += len;
  }
  return p;
}

inline bool is_ascii_ci(uchar c, char lower) { return (c | 0x20) == uchar(lower); }

// After an apostrophe: (?i:[sdmt]|ll|ve|re). Case-insensitive matching follows Unicode simple case
// folding, so U+017F LATIN SMALL LETTER LONG S matches `s` (the regex crate and PCRE2 agree).
inline size_t ci_contraction_len(const uchar* q, const uchar* end) {
  if (q >= end) return 0;
  const uchar a = *q;
  if (is_ascii_ci(a, 's') || is_ascii_ci(a, 'd') || is_ascii_ci(a, 'm') || is_ascii_ci(a, 't')) return 1;
  if (end - q >= 2) {
    if (a == 0xC5 && q[1] == 0xBF) return 2;  // U+017F ſ
    const uchar b = q[1];
    if ((is_ascii_ci(a, 'l') && is_ascii_ci(b, 'l')) || (is_ascii_ci(a, 'v') && is_ascii_ci(b, 'e')) ||
        (is_ascii_ci(a, 'r') && is_ascii_ci(b, 'e'))) {
      return 2;
    }
  }
  return 0;
}

// Case-sensitive: '(?:[sdmt]|ll|ve|re) (r50k / gpt2).
inline size_t cs_contraction_len(const uchar* q, const uchar* end) {
  if (q >= end) return 0;
  const uchar a = *q;
  if (a == 's' || a == 'd' || a == 'm' || a == 't') return 1;
  if (end - q >= 2) {
    const uchar b = q[1];
    if ((a == 'l' && b == 'l') || (a == 'v' && b == 'e') || (a == 'r' && b == 'e')) return 2;
  }
  return 0;
}

// The end of a whitespace run starting at p, plus the two facts the \s alternatives need.
struct SpaceRun {
  const uchar* end;
  const uchar* last_char;     // start of the run's last character
  const uchar* after_newline; // just past the run's last \r or \n, or nullptr
};

inline SpaceRun scan_space_run(const uchar* p, const uchar* end) {
  SpaceRun run{p, p, nullptr};
  while (run.end < end) {
    size_t len;
    uint8_t c = class_at(run.end, end, &len);
    if (!(c & kSpace)) break;
    run.last_char = run.end;
    run.end += len;
    if (c & kNewline) run.after_newline = run.end;
  }
  return run;
}

// r50k_base / gpt2 / p50k: '(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s
[[gnu::always_inline]] inline const uchar* r50k_piece_end(const uchar* p, const uchar* end) {
  if (*p == '\'') {
    if (size_t n = cs_contraction_len(p + 1, end)) return p + 1 + n;
  }
  const uchar* q = p + (*p == ' ');
  if (q < end) {
    size_t len;
    uint8_t c = class_at(q, end, &len);
    if (c & kLetter) return skip_while(q + len, end, kLetter);
    if (c & kNumber) return skip_while(q + len, end, kNumber);
    if (!(c & kSpace)) return skip_while_not(q + len, end, kSpace | kLetter | kNumber);
  }
  // Here p starts whitespace: a lone ' ' before more whitespace or the end, or another \s character.
  SpaceRun run = scan_space_run(p, end);
  if (run.end == end) return run.end;            // \s++$
  if (run.last_char > p) return run.last_char;   // \s+(?!\S): all but the last, which joins the next word
  size_t len;
  class_at(p, end, &len);
  return p + len;                                // \s
}

// cl100k_base, and rustbpe's GPT4 pattern family used for training:
//   '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
//   ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
// kEndAnchor: whether `\s++$` is present (cl100k) or not (GPT4 / nanochat: `...|\s+(?!\S)|\s+`).
// kMaxDigits: 3 for \p{N}{1,3}, 2 for nanochat's \p{N}{1,2}, 1 for Qwen2's \p{N}.
template <bool kEndAnchor, int kMaxDigits>
[[gnu::always_inline]] inline const uchar* cl100k_piece_end(const uchar* p, const uchar* end) {
  if (*p == '\'') {
    if (size_t n = ci_contraction_len(p + 1, end)) return p + 1 + n;
  }
  size_t len;
  const uint8_t c = class_at(p, end, &len);
  // [^\r\n\p{L}\p{N}]?+\p{L}++ (the prefix is possessive, and a prefix char is never a letter, so trying
  // without it could not succeed either)
  if (c & kLetter) return skip_while(p + len, end, kLetter);
  if (!(c & (kNumber | kNewline)) && p + len < end) {
    size_t len2;
    if (class_at(p + len, end, &len2) & kLetter) return skip_while(p + len + len2, end, kLetter);
  }
  // \p{N}{1,3}
  if (c & kNumber) {
    const uchar* q = p + len;
    for (int i = 1; i < kMaxDigits && q < end; ++i) {
      size_t len2;
      if (!(class_at(q, end, &len2) & kNumber)) break;
      q += len2;
    }
    return q;
  }
  //  ?[^\s\p{L}\p{N}]++[\r\n]*
  {
    const uchar* q = p + (*p == ' ');
    if (q < end) {
      size_t len2;
      if (!(class_at(q, end, &len2) & (kSpace | kLetter | kNumber))) {
        q = skip_while_not(q + len2, end, kSpace | kLetter | kNumber);
        while (q < end && (*q == '\r' || *q == '\n')) ++q;
        return q;
      }
    }
  }
  // Whitespace at p.
  SpaceRun run = scan_space_run(p, end);
  if (kEndAnchor && run.end == end) return run.end;  // \s++$
  if (run.after_newline) return run.after_newline;    // \s*[\r\n]: up to the run's last newline
  if (run.end == end) return run.end;                 // \s+(?!\S) at the end of text
  if (run.last_char > p) return run.last_char;        // \s+(?!\S)
  return p + len;                                     // \s (or \s+ over a run of one)
}

// o200k: (?i:'s|'t|'re|'ve|'m|'ll|'d) after a word.
inline size_t o200k_contraction_len(const uchar* q, const uchar* end) {
  if (q >= end || *q != '\'') return 0;
  size_t n = ci_contraction_len(q + 1, end);
  if (n == 0) return 0;
  // ci_contraction_len also accepts 'll/'ve/'re and [sdmt]; o200k's list is 's 't 're 've 'm 'll 'd:
  // the same set.
  return 1 + n;
}

// o200k alternative 1 from s: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ then the
// optional contraction. Greedy U* runs to the end e of the Upperish run; if the next char is Lowerish
// (necessarily Ll) Lw+ takes the Lowerish run from there. Otherwise backtracking gives back characters of
// the run until one is Lowerish (Lm, Lo, M are both), and Lw+ takes exactly that one.
inline const uchar* o200k_alt1(const uchar* s, const uchar* end) {
  const uchar* q = s;
  const uchar* last_lowerish_end = nullptr;
  uint8_t c = 0;
  size_t len = 0;
  while (q < end) {
    c = class_at(q, end, &len);
    if (!(c & kUpperish)) break;
    q += len;
    if (c & kLowerish) last_lowerish_end = q;
  }
  const uchar* r;
  if (q < end && (c & kLowerish)) {
    r = skip_while(q + len, end, kLowerish);
  } else if (last_lowerish_end) {
    r = last_lowerish_end;
  } else {
    return nullptr;
  }
  return r + o200k_contraction_len(r, end);
}

// o200k alternative 2 from s: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* then contraction.
inline const uchar* o200k_alt2(const uchar* s, const uchar* end) {
  const uchar* q = skip_while(s, end, kUpperish);
  if (q == s) return nullptr;
  q = skip_while(q, end, kLowerish);
  return q + o200k_contraction_len(q, end);
}

// o200k_base / o200k_harmony (see kO200kPattern).
[[gnu::always_inline]] inline const uchar* o200k_piece_end(const uchar* p, const uchar* end) {
  size_t len;
  const uint8_t c = class_at(p, end, &len);
  // [^\r\n\p{L}\p{N}]? is greedy but not possessive: with the prefix first, then without it.
  const bool prefix = !(c & (kLetter | kNumber | kNewline));
  if (prefix) {
    if (const uchar* r = o200k_alt1(p + len, end)) return r;
  }
  if (c & (kUpperish | kLowerish)) {
    if (const uchar* r = o200k_alt1(p, end)) return r;
  }
  if (prefix) {
    if (const uchar* r = o200k_alt2(p + len, end)) return r;
  }
  if (c & kUpperish) {
    if (const uchar* r = o200k_alt2(p, end)) return r;
  }
  // \p{N}{1,3}
  if (c & kNumber) {
    const uchar* q = p + len;
    for (int i = 1; i < 3 && q < end; ++i) {
      size_t len2;
      if (!(class_at(q, end, &len2) & kNumber)) break;
      q += len2;
    }
    return q;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n/]*
  {
    const uchar* q = p + (*p == ' ');
    if (q < end) {
      size_t len2;
      if (!(class_at(q, end, &len2) & (kSpace | kLetter | kNumber))) {
        q = skip_while_not(q + len2, end, kSpace | kLetter | kNumber);
        while (q < end && (*q == '\r' || *q == '\n' || *q == '/')) ++q;
        return q;
      }
    }
  }
  SpaceRun run = scan_space_run(p, end);
  if (run.after_newline) return run.after_newline;  // \s*[\r\n]+
  if (run.end == end) return run.end;               // \s+(?!\S) at the end
  if (run.last_char > p) return run.last_char;      // \s+(?!\S)
  return p + len;                                   // \s+ over a run of one
}

// DeepSeek V3 (kDeepSeekV3Splits). Splits 1 and 2 cut the text into parts; split 3 runs on each part as if
// it were the whole text, so a part's end ends its runs and satisfies its `(?!\S)`. Kinds of part, from a
// piece start p: a number group (up to three \p{N}; p starts one, as groups are counted from the start of a
// run), a run of split 2's characters (none is a number), or everything up to the next number or such
// character.

// Split 2's class [\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff], for a valid character of `len` bytes at p.
inline bool is_deepseek_cjk(const uchar* p, size_t len) {
  if (len != 3) return false;
  const uint32_t cp = (uint32_t(p[0] & 0x0F) << 12) | (uint32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x4E00 && cp <= 0x9FA5);
}

// The end of the part that starts at p.
inline const uchar* deepseek_part_end(const uchar* p, const uchar* end) {
  size_t len;
  const uint8_t c = class_at(p, end, &len);
  const uchar* q = p + len;
  if (c & kNumber) {
    for (int i = 1; i < 3 && q < end; ++i) {
      size_t len2;
      if (!(class_at(q, end, &len2) & kNumber)) break;
      q += len2;
    }
    return q;
  }
  if (is_deepseek_cjk(p, len)) {
    while (q < end) {
      size_t len2;
      class_at(q, end, &len2);
      if (!is_deepseek_cjk(q, len2)) break;
      q += len2;
    }
    return q;
  }
  while (q < end) {
#if defined(__SSE2__)
    // ASCII other than digits ends nothing: 16 bytes at a time to the first digit or non-ASCII byte.
    const __m128i before_0 = _mm_set1_epi8('0' - 1), after_9 = _mm_set1_epi8('9' + 1);
    while (end - q >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, before_0), _mm_cmplt_epi8(v, after_9));
      const unsigned stop = unsigned(_mm_movemask_epi8(_mm_or_si128(digit, v)));  // v's sign bit: >= 0x80
      if (stop != 0) {
        q += __builtin_ctz(stop);
        break;
      }
      q += 16;
    }
    if (q == end) break;
#endif
    size_t len2;
    const uint8_t c2 = class_at(q, end, &len2);
    if ((c2 & kNumber) || is_deepseek_cjk(q, len2)) break;
    q += len2;
  }
  return q;
}

// Where split 3's piece starting at p ends, in a part ending at e:
//   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
//    ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// and, where none matches, the text up to the next place one does (Isolated keeps it as a piece).
[[gnu::always_inline]] inline const uchar* deepseek_piece_end(const uchar* p, const uchar* e) {
  size_t len;
  const uint8_t c = class_at(p, e, &len);
  // The 32 ASCII characters of the first class are exactly ASCII's \p{P} and \p{S}.
  if (*p < 0x80 && (c & kPunctSymbol) && p + 1 < e && (kByteClass[p[1]] & kLetter)) {
    const uchar* q = skip_ascii_letters(p + 2, e, false);
    while (q < e && (kByteClass[*q] & kLetter)) ++q;
    return q;
  }
  // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+: with or without a mark as the optional character, the run of
  // letters and marks is the same, so a piece starting with either is that run.
  if (c & (kLetter | kMark)) return skip_while(p + len, e, kLetter | kMark);
  if (!(c & (kNewline | kPunctSymbol)) && p + len < e) {
    size_t len2;
    if (class_at(p + len, e, &len2) & (kLetter | kMark)) return skip_while(p + len + len2, e, kLetter | kMark);
  }
  //  ?[\p{P}\p{S}]+[\r\n]*
  {
    const uchar* q = p + (*p == ' ');
    size_t len2;
    if (q < e && (class_at(q, e, &len2) & kPunctSymbol)) {
      q = skip_while(q + len2, e, kPunctSymbol);
      while (q < e && (*q == '\r' || *q == '\n')) ++q;
      return q;
    }
  }
  if (c & kSpace) {
    SpaceRun run = scan_space_run(p, e);
    if (run.after_newline) return run.after_newline;  // \s*[\r\n]+
    if (run.end == e) return run.end;                 // \s+(?!\S) at the end of the part
    if (run.last_char > p) return run.last_char;      // \s+(?!\S)
    return p + len;                                   // \s+ over a run of one
  }
  // Nothing matches at p, which is then neither letter, mark, punctuation, symbol nor space, and is not
  // followed by a letter or mark. The text between matches runs to the first character where one starts:
  // any of those four, or a character like p followed by a letter or mark (the second alternative's prefix).
  const uchar* q = p + len;
  while (q < e) {
    size_t len2, len3;
    if (class_at(q, e, &len2) & (kLetter | kMark | kPunctSymbol | kSpace)) break;
    if (q + len2 < e && (class_at(q + len2, e, &len3) & (kLetter | kMark))) break;
    q += len2;
  }
  return q;
}

}  // namespace tokenmill::detail

namespace tokenmill {

inline size_t Pretokenizer::next_piece_end(std::string_view text, size_t pos) const {
  using detail::uchar;
  const uchar* base = reinterpret_cast<const uchar*>(text.data());
  const uchar* p = base + pos;
  const uchar* end = base + text.size();
  const uchar* r;
  switch (kind_) {
    case Kind::kR50k: r = detail::r50k_piece_end(p, end); break;
    case Kind::kCl100k: r = detail::cl100k_piece_end<true, 3>(p, end); break;
    case Kind::kGpt4: r = detail::cl100k_piece_end<false, 3>(p, end); break;
    case Kind::kNanochat: r = detail::cl100k_piece_end<false, 2>(p, end); break;
    case Kind::kQwen2:
      r = detail::cl100k_piece_end<false, 1>(p, end);
      break;
    case Kind::kO200k: r = detail::o200k_piece_end(p, end); break;
    case Kind::kDeepSeekV3:
      r = detail::deepseek_piece_end(p, detail::deepseek_part_end(p, end));
      break;
    default: r = end; break;
  }
  return size_t(r - base);
}

namespace detail {
template <class Scan, class OnPiece>
inline void scan_pieces(std::string_view text, Scan scan, OnPiece& on_piece) {
  const uchar* base = reinterpret_cast<const uchar*>(text.data());
  const uchar* p = base;
  const uchar* end = base + text.size();
  while (p < end) {
    const uchar* e = scan(p, end);
    on_piece(std::string_view(reinterpret_cast<const char*>(p), size_t(e - p)));
    p = e;
  }
}
}  // namespace detail

namespace detail {
// Scanners wrapped in types (not passed as function pointers) so each loop inlines its scanner. The
// always_inline matters: left to itself GCC 12 called the o200k scanner out of line, once per piece, and
// inlining it made o200k +15% on en.txt and +18% on multi.txt (interleaved best-of-3).
struct R50kScan {
  [[gnu::always_inline]] const uchar* operator()(const uchar* p, const uchar* end) const {
    return r50k_piece_end(p, end);
  }
};
template <bool kEndAnchor, int kMaxDigits>
struct Cl100kScan {
  [[gnu::always_inline]] const uchar* operator()(const uchar* p, const uchar* end) const {
    return cl100k_piece_end<kEndAnchor, kMaxDigits>(p, end);
  }
};
struct O200kScan {
  [[gnu::always_inline]] const uchar* operator()(const uchar* p, const uchar* end) const {
    return o200k_piece_end(p, end);
  }
};
// Remembers the part it is in, so each part's end is found once (finding it per piece would be quadratic).
struct DeepSeekV3Scan {
  const uchar* part_end = nullptr;
  [[gnu::always_inline]] const uchar* operator()(const uchar* p, const uchar* end) {
    if (p >= part_end) part_end = deepseek_part_end(p, end);
    return deepseek_piece_end(p, part_end);
  }
};
}  // namespace detail

template <class OnPiece>
Status Pretokenizer::for_each_piece(std::string_view text, OnPiece&& on_piece) const {
  // One switch per call, so each scanner's loop is compiled with its own alternatives inlined.
  switch (kind_) {
    case Kind::kR50k:
      detail::scan_pieces(text, detail::R50kScan{}, on_piece);
      return Status();
    case Kind::kCl100k:
      detail::scan_pieces(text, detail::Cl100kScan<true, 3>{}, on_piece);
      return Status();
    case Kind::kGpt4:
      detail::scan_pieces(text, detail::Cl100kScan<false, 3>{}, on_piece);
      return Status();
    case Kind::kNanochat:
      detail::scan_pieces(text, detail::Cl100kScan<false, 2>{}, on_piece);
      return Status();
    case Kind::kQwen2:
      detail::scan_pieces(text, detail::Cl100kScan<false, 1>{}, on_piece);
      return Status();
    case Kind::kO200k:
      detail::scan_pieces(text, detail::O200kScan{}, on_piece);
      return Status();
    case Kind::kDeepSeekV3:
      detail::scan_pieces(text, detail::DeepSeekV3Scan{}, on_piece);
      return Status();
    case Kind::kRegex: {
      // PCRE2 needs valid UTF-8: the regex sees the valid prefix, and an invalid tail is one piece.
      const std::string_view all = text;
      text = all.substr(0, detail::valid_utf8_prefix(reinterpret_cast<const detail::uchar*>(all.data()),
                                                      all.size()));
      size_t pos = 0, b, e;
      bool found = false;
      while (pos <= text.size()) {
        if (Status s = regex_find(text, pos, &found, &b, &e); !s.ok()) return s;
        if (!found) break;
        if (e > b) {
          on_piece(text.substr(b, e - b));
          pos = e;
        } else {  // an empty match yields nothing and the search resumes one character later
          if (e >= text.size()) break;
          size_t len;
          detail::class_at(reinterpret_cast<const detail::uchar*>(text.data()) + e,
                           reinterpret_cast<const detail::uchar*>(text.data()) + text.size(), &len);
          pos = e + len;
        }
      }
      if (text.size() < all.size()) on_piece(all.substr(text.size()));
      return Status();
    }
  }
  return Status();
}

}  // namespace tokenmill
