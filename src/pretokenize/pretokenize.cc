#include "tokenmill/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <cstring>
#include <string>

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

// tiktoken's regex crate defines \s as the White_Space property. PCRE2's \s (with UCP) is \p{Xps}, which
// lacks U+0085 and, through its fixed \h list, includes U+180E (White_Space until Unicode 6.3 only).
// Rewrite \s and \S to the White_Space set itself so both engines agree. (\S inside a class is left
// alone: PCRE2 has no class subtraction; the built-in patterns do not use it.)
constexpr std::string_view kWhiteSpaceSet =
    "\\t\\n\\x{0B}\\x{0C}\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string rewrite_for_pcre2(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[i + 1];
      if (n == 's') {
        if (in_class) {
          out += kWhiteSpaceSet;
        } else {
          out += '[';
          out += kWhiteSpaceSet;
          out += ']';
        }
      } else if (n == 'S' && !in_class) {
        out += "[^";
        out += kWhiteSpaceSet;
        out += ']';
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
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
  if (pattern == kR50kPattern) kind = Kind::kR50k;
  else if (pattern == kCl100kPattern) kind = Kind::kCl100k;
  else if (pattern == kO200kPattern) kind = Kind::kO200k;
  else if (pattern == kGpt4Pattern) kind = Kind::kGpt4;
  else if (pattern == kNanochatPattern) kind = Kind::kNanochat;
  // Compile the regex for every kind: it validates the pattern and lets callers cross-check.
  auto regex = create_regex(pattern);
  if (!regex.ok()) return regex.status();
  Pretokenizer p = std::move(regex).value();
  p.kind_ = kind;
  return p;
}

bool Pretokenizer::regex_find(std::string_view text, size_t pos, size_t* match_begin, size_t* match_end) const {
  if (!regex_) return false;
  // Match data is per thread: pcre2 needs scratch space per concurrent match, and allocating it per call
  // would cost more than the match itself on short pieces.
  struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
  };
  thread_local MatchData md;
  int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                       PCRE2_NO_UTF_CHECK, md.data, nullptr);
  if (rc < 0) return false;
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
  *match_begin = ov[0];
  *match_end = ov[1];
  return true;
}

}  // namespace tokenmill
