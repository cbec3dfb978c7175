#include "pre_tokenizers/hf_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace tokenmill::hf {

namespace {
#include "pre_tokenizers/general_category.inc"
}  // namespace

struct HfRegex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Oniguruma's \s (Unicode) is the White_Space property. PCRE2's \s (with UCP) lacks U+0085 and has
// U+180E, so both are spelled out as that set.
constexpr std::string_view kWhiteSpaceSet =
    "\\t\\n\\x{0B}\\x{0C}\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
    "\\x{3000}";

// Oniguruma's loose property-name match: case, '_', '-' and ' ' do not count.
std::string loose(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out += char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

const GeneralCategory* find_category(std::string_view name) {
  const std::string key = loose(name);
  for (const GeneralCategory& gc : kGeneralCategories) {
    if (loose(gc.short_name) == key || loose(gc.long_name) == key) return &gc;
  }
  return nullptr;
}

void append_code_point(std::string& out, uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\x{%X}", cp);
  out += buf;
}

// The category's ranges (or their complement, surrogates left out) as the inside of a PCRE2 class.
std::string class_body(const GeneralCategory& gc, bool negate) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (size_t i = 0; i < gc.size; ++i) ranges.push_back({gc.ranges[i][0], gc.ranges[i][1]});
  if (negate) {
    std::vector<std::pair<uint32_t, uint32_t>> comp;
    uint32_t next = 0;
    auto add = [&](uint32_t a, uint32_t b) {
      // Split around the surrogates, which PCRE2 does not accept in a UTF class.
      if (a <= 0xDFFF && b >= 0xD800) {
        if (a < 0xD800) comp.push_back({a, 0xD7FF});
        if (b > 0xDFFF) comp.push_back({0xE000, b});
      } else {
        comp.push_back({a, b});
      }
    };
    for (auto [a, b] : ranges) {
      if (a > next) add(next, a - 1);
      next = b + 1;
    }
    if (next <= 0x10FFFF) add(next, 0x10FFFF);
    ranges = std::move(comp);
  }
  std::string out;
  for (auto [a, b] : ranges) {
    append_code_point(out, a);
    if (b != a) {
      out += '-';
      append_code_point(out, b);
    }
  }
  return out;
}

// An interval {n}, {n,} or {n,m} at p[i] ('{'): its length, or 0 if it is none (then '{' is a literal).
size_t interval_length(std::string_view p, size_t i) {
  size_t j = i + 1, digits = 0;
  while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j, ++digits;
  if (digits == 0) return 0;
  if (j < p.size() && p[j] == ',') {
    ++j;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j;
  }
  return j < p.size() && p[j] == '}' ? j + 1 - i : 0;
}

// Rewrites \s / \S and \p{..} / \P{..} (spelled out from the Unicode 16.0 tables); refuses escapes whose meaning
// differs (Ruby's \h is a hex digit, PCRE2's horizontal space; \w, \d, \b follow different Unicode definitions) rather
// than give other pieces. Also Ruby's reading of a quantifier after an interval, where PCRE2's differs: `X{n,m}+` is
// `(?:X{n,m})+` (a repeated interval, not a possessive one) and `X{n}?` is `(?:X{n})?` (optional, not lazy); `X{n,m}?`
// is lazy in both.
Result<std::string> rewrite(std::string_view p) {
  std::string out;
  bool in_class = false;
  size_t atom = std::string::npos;  // where in `out` the last atom (what a quantifier repeats) starts
  std::vector<size_t> groups;       // where in `out` each open group starts
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (!in_class) {
      if (c == '{' && atom != std::string::npos) {
        if (const size_t n = interval_length(p, i); n != 0) {
          const std::string_view interval = p.substr(i, n);
          const char next = i + n < p.size() ? p[i + n] : '\0';
          if (next == '+' || (next == '?' && interval.find(',') == std::string_view::npos)) {
            out.insert(atom, "(?:");
            out += interval;
            out += ')';
          } else {
            out += interval;
          }
          i += n - 1;
          continue;
        }
      }
      if (c == '(') {
        groups.push_back(out.size());
      } else if (c == ')' && !groups.empty()) {
        out += c;
        atom = groups.back();
        groups.pop_back();
        continue;
      } else if (c != '*' && c != '+' && c != '?' && c != '|') {
        atom = out.size();
      } else if (c == '|') {
        atom = std::string::npos;
      }
    }
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 'p' || n == 'P') {
        // \pL, \p{L}, \p{^L}, \P{L}
        size_t name_begin, name_end, next;
        if (i + 2 < p.size() && p[i + 2] == '{') {
          size_t close = p.find('}', i + 3);
          if (close == std::string_view::npos) {
            return Status(ErrorCode::kInvalidArgument, "split regex: unterminated \\p{ at offset " + std::to_string(i) +
                                                           " (pattern: " + std::string(p) + ")");
          }
          name_begin = i + 3;
          name_end = close;
          next = close + 1;
        } else {
          name_begin = i + 2;
          name_end = std::min(p.size(), i + 3);
          next = name_end;
        }
        bool negate = n == 'P';
        std::string_view name = p.substr(name_begin, name_end - name_begin);
        if (!name.empty() && name[0] == '^') {
          negate = !negate;
          name.remove_prefix(1);
        }
        const GeneralCategory* gc = find_category(name);
        if (gc == nullptr) {
          return Status(ErrorCode::kInvalidArgument, "split regex: \\p{" + std::string(name) + "} at offset " +
                                                         std::to_string(i) +
                                                         " is not a General_Category (scripts and other "
                                                         "properties are not supported) (pattern: " +
                                                         std::string(p) + ")");
        }
        if (in_class) {
          out += class_body(*gc, negate);
        } else {
          out += '[';
          out += class_body(*gc, negate);
          out += ']';
        }
        i = next - 1;
        continue;
      }
      if (n == 's') {
        out += in_class ? std::string(kWhiteSpaceSet) : "[" + std::string(kWhiteSpaceSet) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(kWhiteSpaceSet) + "]";
      } else if (n == 'S' || n == 'h' || n == 'H' || n == 'w' || n == 'W' || n == 'd' || n == 'D' || n == 'b' ||
                 n == 'B' || n == 'X' || n == 'R' || n == 'K' || n == 'G') {
        return Status(ErrorCode::kInvalidArgument,
                      std::string("split regex uses \\") + n + " at offset " + std::to_string(i) +
                          ", whose Oniguruma meaning is not supported (pattern: " + std::string(p) + ")");
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
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == '[' && in_class) {
      // Nested classes, POSIX brackets ([:alpha:] is Unicode Alphabetic in Oniguruma) and && intersection
      // are read differently by PCRE2.
      return Status(ErrorCode::kInvalidArgument,
                    "split regex has a nested character class or POSIX bracket at offset " + std::to_string(i) +
                        ", not supported (pattern: " + std::string(p) + ")");
    }
    if (c == '&' && in_class && i + 1 < p.size() && p[i + 1] == '&') {
      return Status(ErrorCode::kInvalidArgument, "split regex has a class intersection (&&) at offset " +
                                                     std::to_string(i) + ", not supported (pattern: " + std::string(p) +
                                                     ")");
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

}  // namespace

Result<HfRegex> HfRegex::compile(std::string_view pattern) {
  auto rewritten = rewrite(pattern);
  if (!rewritten.ok()) return rewritten.status();
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // MULTILINE: in Ruby syntax ^ and $ are line anchors.
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten->data()), rewritten->size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error_code, buffer, sizeof(buffer));
    return Status(ErrorCode::kInvalidArgument,
                  "split regex does not compile at offset " + std::to_string(error_offset) + ": " +
                      reinterpret_cast<char*>(buffer) + " (pattern: " + std::string(pattern) + ")");
  }
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto c = std::make_shared<Code>();
  c->code = code;
  HfRegex r;
  r.pattern_ = std::string(pattern);
  r.code_ = std::move(c);
  return r;
}

Status HfRegex::find_matches(std::string_view text, std::vector<std::pair<Offsets, bool>>& out) const {
  out.clear();
  if (text.empty()) {
    out.push_back({{0, 0}, false});
    return Status();
  }
  struct MatchData {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(data); }
  };
  thread_local MatchData md;
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  size_t prev = 0;
  while (last_end <= text.size()) {
    int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), last_end,
                         PCRE2_NO_UTF_CHECK, md.data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR buffer[256];
      pcre2_get_error_message(rc, buffer, sizeof(buffer));
      return Status(ErrorCode::kInvalidArgument,
                    "split regex failed to match: " + std::string(reinterpret_cast<char*>(buffer)) +
                        " (pattern: " + pattern_ + ")");
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
    size_t s = ov[0], e = ov[1];
    if (s == e && have_last && last_match_end == e) {
      // Oniguruma's iterator: no empty match right after the previous one; step one character.
      last_end += last_end < text.size() ? utf8_len(static_cast<unsigned char>(text[last_end])) : 1;
      continue;
    }
    last_end = e;
    have_last = true;
    last_match_end = e;
    if (prev != s) out.push_back({{uint32_t(prev), uint32_t(s)}, false});
    out.push_back({{uint32_t(s), uint32_t(e)}, true});
    prev = e;
  }
  if (prev != text.size()) out.push_back({{uint32_t(prev), uint32_t(text.size())}, false});
  return Status();
}

}  // namespace tokenmill::hf
