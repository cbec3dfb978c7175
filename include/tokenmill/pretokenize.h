// Pre-tokenization: cutting text into the pieces that BPE then encodes one by one.
//
//   auto pre = tokenmill::Pretokenizer::create(tokenmill::kCl100kPattern);
//   pre->for_each_piece("Hello world", [](std::string_view piece) { ... });   // "Hello", " world"
//
// tiktoken and HF tokenizers define pieces with a regular expression and spend most of their time in a
// backtracking regex engine. tokenmill recognises the OpenAI patterns (exact strings) and runs a
// hand-written scanner for each that gives the same pieces in one forward pass, without backtracking
// (see include/tokenmill/detail/pretokenize_inl.h for how each alternative is decided). Any other pattern
// runs on PCRE2 with JIT, with the semantics of tiktoken's regex crate: leftmost-first alternation, `$`
// only at the end of the text, characters no alternative matches are dropped.
//
// Character classes (\p{L}, \p{N}, \s, case classes) follow the Unicode version in unicode_version(),
// in tables generated from the UCD and committed (tools/tables/); this is the version tiktoken and HF
// tokenizers use. The PCRE2 path uses PCRE2's own tables (the system library's Unicode version).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/status.h"

namespace tokenmill {

// The split patterns of tiktoken 0.14.0 (tiktoken_ext/openai_public.py), character for character.
inline constexpr std::string_view kR50kPattern =
    R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s)";
inline constexpr std::string_view kCl100kPattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";
inline constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// rustbpe's default (GPT4_PATTERN) and nanochat's variant with \p{N}{1,2}: same pieces as cl100k's
// pattern family, used by the trainer.
inline constexpr std::string_view kGpt4Pattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
inline constexpr std::string_view kNanochatPattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";

// Split patterns of Hugging Face tokenizer.json files that give the same pieces as a built-in scanner, so
// those models never run a regex either. Llama 3's is GPT4's pattern written without possessive quantifiers
// and with its alternatives spelled differently: `(?i:'s|'t|...)` is the same set as `'(?i:[sdmt]|ll|ve|re)`;
// a possessive `?+` before `\p{L}` and a greedy `?` match alike, since the optional character is never a
// letter, so giving it back cannot let `\p{L}+` match; `\s*[\r\n]+` and `\s*[\r\n]` both end after the
// last line break of a whitespace run. Qwen2/Qwen3's is Llama 3's with single digits (`\p{N}`).
inline constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-2's pattern as HF's ByteLevel pre-tokenizer has it built in (use_regex): r50k's pieces (the final
// `\s+` is reached only by a one-character run, where it is r50k's `\s`).
inline constexpr std::string_view kGpt2ByteLevelPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// r50k's and cl100k's patterns as a tokenizer.json must spell them for HF, whose regex engine (Oniguruma,
// Ruby syntax) reads tiktoken's strings otherwise: there `X{1,3}+` is `(?:X{1,3})+` (any run of digits),
// not possessive, and `$` ends a line, not the text. So the possessive interval is an atomic group and `$`
// is `\z`: the same pieces as tiktoken's in both engines (what tokenmill writes; tests/python/test_hf.py
// holds HF on them against tiktoken). tiktoken's own strings in a tokenizer.json are HF's reading, run on
// the regex stage, not these scanners.
inline constexpr std::string_view kR50kHfPattern =
    R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++\z|\s+(?!\S)|\s)";
inline constexpr std::string_view kCl100kHfPattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|(?>\p{N}{1,3})| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++\z|\s*[\r\n]|\s+(?!\S)|\s)";

// DeepSeek V3's pre-tokenizer is no one pattern but three Splits in sequence (HF's Sequence of Split, each
// Isolated, each applied to every piece the one before made): numbers in groups of up to three; then runs of
// CJK ideographs and kana in what is left; then this third pattern on each remaining part alone, the text
// between its matches kept as pieces too. The class [^\r\n...] holds the characters CR and LF themselves,
// as the tokenizer.json string does.
inline constexpr std::string_view kDeepSeekV3Splits[3] = {
    R"(\p{N}{1,3})",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^)"
    "\r\n"
    R"(\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[)"
    "\r\n"
    R"(]*|\s*[)"
    "\r\n"
    R"(]+|\s+(?!\S)|\s+)",
};

const char* unicode_version();

class Pretokenizer {
 public:
  // kGpt4 also serves kLlama3Pattern, kR50k kGpt2ByteLevelPattern; kQwen2 is kQwen2Pattern; kDeepSeekV3 is
  // kDeepSeekV3Splits.
  enum class Kind { kR50k, kCl100k, kO200k, kGpt4, kNanochat, kQwen2, kDeepSeekV3, kRegex };

  // Specialised scanner for a known pattern, PCRE2 otherwise. Fails if the pattern is not valid UTF-8 or
  // does not compile.
  static Result<Pretokenizer> create(std::string_view pattern);
  // The scanner for a sequence of Isolated splits (see kDeepSeekV3Splits), or one split's create(). A
  // sequence no scanner knows is kNotFound: a regex engine cannot run it as one pattern. pattern() is then
  // the patterns joined by line breaks, for messages only.
  static Result<Pretokenizer> create_split_sequence(const std::vector<std::string_view>& patterns);
  // Always PCRE2, even for a known pattern: the reference the scanners are tested against.
  static Result<Pretokenizer> create_regex(std::string_view pattern);

  Kind kind() const { return kind_; }
  const std::string& pattern() const { return pattern_; }

  // Calls on_piece(std::string_view) for each piece of `text`, in order. For the built-in patterns the
  // pieces tile the text exactly. `text` should be valid UTF-8; invalid bytes are taken one at a time as
  // characters of no class (never read past the end, never crash). Built-in kinds never fail; a regex can
  // (PCRE2 gives up on a match past its backtracking limits): then the error says where, and the pieces
  // already passed to on_piece are not the whole text.
  template <class OnPiece>
  [[nodiscard]] Status for_each_piece(std::string_view text, OnPiece&& on_piece) const;

  // Where the piece starting at text[pos] ends (built-in kinds only; pos < text.size()). For kDeepSeekV3 this
  // reads to the end of the split-2 part pos is in.
  size_t next_piece_end(std::string_view text, size_t pos) const;

  // The first position c in [from, to) where `text` can be cut for encoding on several threads: splitting
  // text[0, c) and text[c, end) alone gives exactly the pieces of the whole text. npos if there is none in
  // the range, or if this is a custom (regex) pattern, for which no cut is proven: such text is encoded on
  // one thread. The rule and its proof for the built-in pattern families are in src/pretokenize/cuts.cc.
  size_t find_cut(std::string_view text, size_t from, size_t to) const;

  // Regex kind: finds the next match at or after pos. Sets *found (false: no match in the rest of the
  // text); an error if the engine could not decide (match or stack limit). Thread-safe.
  Status regex_find(std::string_view text, size_t pos, bool* found, size_t* match_begin, size_t* match_end) const;

 private:
  struct RegexImpl;
  Kind kind_ = Kind::kRegex;
  std::string pattern_;
  std::shared_ptr<const RegexImpl> regex_;
};

}  // namespace tokenmill

#include "tokenmill/detail/pretokenize_inl.h"
