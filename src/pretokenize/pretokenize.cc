#include "tokenmill/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "tokenmill/detail/unicode_class.h"

namespace tokenmill {

namespace detail {

#include "unicode_tables.inc"

const uint16_t* const kUnicodeStage1Ptr = kUnicodeStage1;
const uint8_t* const kUnicodeStage2Ptr = kUnicodeStage2;
static_assert(kUnicodeBlockShift == kBlockShift);

// Classes of single bytes: ASCII from the generated table plus the \r \n flag the patterns single out;
// bytes >= 0x80 (parts of longer characters) get class 0.
static constexpr std::array<uint8_t, 256> make_byte_class() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 128; ++c) {
    t[size_t(c)] = kUnicodeStage2[(size_t(kUnicodeStage1[0]) << kUnicodeBlockShift) | size_t(c)];
  }
  t[size_t('\r')] |= kNewline;
  t[size_t('\n')] |= kNewline;
  return t;
}
constexpr std::array<uint8_t, 256> kByteClass = make_byte_class();  // external linkage: declared extern

size_t valid_utf8_prefix(const unsigned char* p, size_t n) {
  // Nearly every text is valid whole: simdjson's SIMD check runs at ~10 GB/s on multi.txt, the loop below
  // (which finds where an invalid text stops) at under 1 GB/s there, ~3% of o200k's encode of it.
  if (simdjson::validate_utf8(reinterpret_cast<const char*>(p), n)) return n;
  size_t i = 0;
  while (i < n) {
    // ASCII runs dominate real text: check 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    class_at(p + i, p + n, &len);
    if (len == 1) return i;  // a non-ASCII byte decoded alone is invalid UTF-8
    i += len;
  }
  return n;
}

}  // namespace detail

const char* unicode_version() { return TOKENMILL_UNICODE_VERSION; }

struct Pretokenizer::RegexImpl {
  pcre2_code* code = nullptr;
  ~RegexImpl() { pcre2_code_free(code); }
};

namespace {

// PCRE2 and tiktoken's engine (fancy-regex over the regex crate) read some escapes differently, so a
// custom pattern is rewritten to the classes tiktoken means, written out as code point ranges:
//   \s, \S   White_Space (PCRE2's \s with UCP lacks U+0085 and has U+180E, White_Space until Unicode 6.3);
//   \h, \H   a hex digit [0-9A-Fa-f] in fancy-regex, horizontal space in PCRE2;
//   [:name:] POSIX classes are ASCII in the regex crate, Unicode properties in PCRE2 with UCP.
// Inside a class the negations are written as the complement ranges, since PCRE2 has no class
// subtraction (`[\S\d]` has to be one union).
using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

const Ranges kWhiteSpace = {{0x09, 0x0D},     {0x20, 0x20},     {0x85, 0x85},     {0xA0, 0xA0},     {0x1680, 0x1680},
                            {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};
const Ranges kHexDigit = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};

// The regex crate's ASCII classes (regex-syntax's ascii class table).
const Ranges* posix_class(std::string_view name) {
  static const std::pair<std::string_view, Ranges> kTable[] = {
      {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
      {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
      {"ascii", {{0x00, 0x7F}}},
      {"blank", {{'\t', '\t'}, {' ', ' '}}},
      {"cntrl", {{0x00, 0x1F}, {0x7F, 0x7F}}},
      {"digit", {{'0', '9'}}},
      {"graph", {{'!', '~'}}},
      {"lower", {{'a', 'z'}}},
      {"print", {{' ', '~'}}},
      {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
      {"space", {{'\t', '\r'}, {' ', ' '}}},
      {"upper", {{'A', 'Z'}}},
      {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
      {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
  };
  for (const auto& [n, r] : kTable) {
    if (n == name) return &r;
  }
  return nullptr;
}

// Code points not in `r` (sorted, disjoint), without the surrogates, which UTF-8 text cannot hold.
Ranges complement(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  auto add = [&](uint32_t lo, uint32_t hi) {
    if (hi < 0xD800 || lo > 0xDFFF) {
      out.emplace_back(lo, hi);
      return;
    }
    if (lo < 0xD800) out.emplace_back(lo, 0xD7FF);
    if (hi > 0xDFFF) out.emplace_back(0xE000, hi);
  };
  for (const auto& [lo, hi] : r) {
    if (lo > next) add(next, lo - 1);
    next = hi + 1;
  }
  if (next <= 0x10FFFF) add(next, 0x10FFFF);
  return out;
}

// Class members (the part between `[` and `]`) for a set of ranges.
std::string class_body(const Ranges& r) {
  std::string out;
  char buf[32];
  for (const auto& [lo, hi] : r) {
    if (lo == hi) {
      std::snprintf(buf, sizeof buf, "\\x{%X}", lo);
    } else {
      std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", lo, hi);
    }
    out += buf;
  }
  return out;
}

// The ranges an escape letter stands for in tiktoken's engine, if it is one PCRE2 reads differently.
const Ranges* rewritten_escape(char c, bool* negated) {
  *negated = c == 'S' || c == 'H';
  if (c == 's' || c == 'S') return &kWhiteSpace;
  if (c == 'h' || c == 'H') return &kHexDigit;
  return nullptr;
}

std::string rewrite_for_pcre2(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[i + 1];
      bool negated = false;
      if (const Ranges* r = rewritten_escape(n, &negated)) {
        const std::string body = class_body(negated ? complement(*r) : *r);
        out += in_class ? body : "[" + body + "]";
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && in_class && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      // [:name:] or [:^name:] inside a class.
      size_t close = pattern.find(":]", i + 2);
      if (close != std::string_view::npos) {
        std::string_view name = pattern.substr(i + 2, close - i - 2);
        const bool negated = !name.empty() && name[0] == '^';
        if (negated) name.remove_prefix(1);
        if (const Ranges* r = posix_class(name)) {
          out += class_body(negated ? complement(*r) : *r);
          i = close + 1;
          continue;
        }
      }
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

Result<Pretokenizer> Pretokenizer::create_regex(std::string_view pattern) {
  // pcre2_compile is told not to check UTF-8 (the check would run again on every rewrite) and reads past
  // the end of a truncated sequence: the pattern is checked here, once.
  const size_t valid =
      detail::valid_utf8_prefix(reinterpret_cast<const unsigned char*>(pattern.data()), pattern.size());
  if (valid != pattern.size()) {
    return Status(ErrorCode::kInvalidArgument, "split pattern is not valid UTF-8 (byte " + std::to_string(valid) +
                                                   " of " + std::to_string(pattern.size()) + ")");
  }
  std::string rewritten = rewrite_for_pcre2(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // UTF + UCP: Unicode properties for \p, \w, \d and case folding. DOLLAR_ENDONLY: `$` is the end of the
  // text only, as in the regex crate (PCRE2 would otherwise also match before a final newline).
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK,
                                   &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error_code, buffer, sizeof(buffer));
    return Status(ErrorCode::kInvalidArgument, "split pattern does not compile at offset " +
                                                   std::to_string(error_offset) + ": " +
                                                   reinterpret_cast<char*>(buffer) + " (pattern: " +
                                                   std::string(pattern) + ")");
  }
  // JIT is an optimisation: if the platform lacks it, the interpreter gives the same matches.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto impl = std::make_shared<RegexImpl>();
  impl->code = code;
  Pretokenizer p;
  p.kind_ = Kind::kRegex;
  p.pattern_ = std::string(pattern);
  p.regex_ = std::move(impl);
  return p;
}

Result<Pretokenizer> Pretokenizer::create(std::string_view pattern) {
  Kind kind = Kind::kRegex;
  if (pattern == kR50kPattern || pattern == kGpt2ByteLevelPattern || pattern == kR50kHfPattern)
    kind = Kind::kR50k;
  else if (pattern == kCl100kPattern || pattern == kCl100kHfPattern)
    kind = Kind::kCl100k;
  else if (pattern == kO200kPattern) kind = Kind::kO200k;
  else if (pattern == kGpt4Pattern || pattern == kLlama3Pattern)
    kind = Kind::kGpt4;
  else if (pattern == kNanochatPattern) kind = Kind::kNanochat;
  else if (pattern == kQwen2Pattern)
    kind = Kind::kQwen2;
  // Compile the regex for every kind: it validates the pattern and lets callers cross-check.
  auto regex = create_regex(pattern);
  if (!regex.ok()) return regex.status();
  Pretokenizer p = std::move(regex).value();
  p.kind_ = kind;
  return p;
}

Result<Pretokenizer> Pretokenizer::create_split_sequence(const std::vector<std::string_view>& patterns) {
  if (patterns.size() == 1) return create(patterns[0]);
  std::string joined;
  for (std::string_view p : patterns) joined.append(joined.empty() ? "" : "\n").append(p);
  if (std::equal(patterns.begin(), patterns.end(), std::begin(kDeepSeekV3Splits), std::end(kDeepSeekV3Splits))) {
    Pretokenizer p;
    p.kind_ = Kind::kDeepSeekV3;
    p.pattern_ = std::move(joined);
    return p;
  }
  return Status(ErrorCode::kNotFound,
                "no scanner for this sequence of " + std::to_string(patterns.size()) + " split patterns: " + joined);
}

Status Pretokenizer::regex_find(std::string_view text, size_t pos, bool* found, size_t* match_begin,
                                size_t* match_end) const {
  *found = false;
  if (!regex_) return Status();
  // Match data and the JIT stack are per thread: pcre2 needs scratch space per concurrent match, and
  // allocating it per call would cost more than the match itself on short pieces. PCRE2's default JIT
  // stack (32 KB) overflows on a repeated group over a few thousand bytes (`(\w|\W)+`); 8 MB covers a
  // few hundred KB of such a match, and the interpreter (heap frames) takes what is left over.
  struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    MatchData() {
      if (stack != nullptr && context != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~MatchData() {
      pcre2_match_context_free(context);
      pcre2_jit_stack_free(stack);
      pcre2_match_data_free(data);
    }
  };
  thread_local MatchData md;
  if (md.data == nullptr) return Status(ErrorCode::kInvalidArgument, "split pattern: out of memory for match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  int rc = pcre2_match(regex_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.data, md.context);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    rc = pcre2_match(regex_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md.data, md.context);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return Status();
  if (rc < 0) {
    // "No match" here would silently drop the rest of the text; the caller must hear that PCRE2 gave up.
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(rc, buffer, sizeof(buffer));
    return Status(ErrorCode::kInvalidArgument, "split pattern: the regex engine gave up matching at byte " +
                                                   std::to_string(pos) + " of a " + std::to_string(text.size()) +
                                                   "-byte text: " + reinterpret_cast<char*>(buffer) +
                                                   " (pattern: " + pattern_ + ")");
  }
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
  *match_begin = ov[0];
  *match_end = ov[1];
  *found = true;
  return Status();
}

}  // namespace tokenmill
