// One JSON Lines record, parsed as CPython's json.loads (its C scanner) parses a str: the grammar of
// RFC 8259 plus NaN / Infinity / -Infinity, strict strings (no raw control characters), "\uXXXX" with
// exactly four hex digits, a high surrogate escape followed by a low one combined into one code point,
// any other surrogate kept alone (we write it as U+FFFD, which is what tiktoken encodes a lone surrogate
// as), and for duplicate keys the last value wins.
//
// Hand-written rather than simdjson: simdjson keeps the first of duplicate keys, rejects NaN and lone
// surrogates, so it would disagree with the Python pipelines users compare against. The validator is a
// single pass without recursion (an explicit stack), so deep nesting cannot overflow the C++ stack.
#include <simdjson.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tokenmill/dataset.h"

namespace tokenmill {

namespace {

// Python raises RecursionError at about this depth (sys.getrecursionlimit() is 1000).
constexpr size_t kMaxDepth = 1000;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  // Parses into `doc`, whose buffers are reused: a reader that parses line after line into one document
  // allocates nothing once they have grown.
  void run(std::string_view field, JsonlDocument& doc) {
    doc.error = JsonlError::kNone;
    doc.message.clear();
    doc.text.clear();
    skip_ws();
    if (pos_ >= s_.size()) return fail(doc, "Expecting value");
    if (s_[pos_] != '{') {
      // Still has to be valid JSON for the message to be Python's; either way it is not an object.
      size_t at = pos_;
      if (!value(nullptr)) return fail(doc, error_);
      skip_ws();
      if (pos_ != s_.size()) return fail(doc, "Extra data");
      pos_ = at;
      return fail(doc, "not a JSON object");
    }
    // The top-level object: its keys are compared with `field`; nested values are only validated.
    ++pos_;
    skip_ws();
    bool found = false, found_string = false;
    std::string key;
    std::string& text = doc.text;
    if (peek() == '}') {
      ++pos_;
    } else {
      while (true) {
        if (peek() != '"') return fail(doc, "Expecting property name enclosed in double quotes");
        ++pos_;
        if (!string_body(&key)) return fail(doc, error_);
        skip_ws();
        if (peek() != ':') return fail(doc, "Expecting ':' delimiter");
        ++pos_;
        skip_ws();
        if (key == field) {
          found = true;
          if (peek() == '"') {
            ++pos_;
            text.clear();
            if (!string_body(&text)) return fail(doc, error_);
            found_string = true;
          } else {
            if (!value(nullptr)) return fail(doc, error_);
            found_string = false;  // the last duplicate wins, even over an earlier string
          }
        } else if (!value(nullptr)) {
          return fail(doc, error_);
        }
        skip_ws();
        if (peek() == ',') {
          ++pos_;
          skip_ws();
          continue;
        }
        if (peek() == '}') {
          ++pos_;
          break;
        }
        return fail(doc, "Expecting ',' delimiter");
      }
    }
    skip_ws();
    if (pos_ != s_.size()) return fail(doc, "Extra data");
    if (!found) {
      doc.error = JsonlError::kMissingField;
      doc.message = "no field \"" + std::string(field) + "\"";
      return;
    }
    if (!found_string) {
      text.clear();  // a string an earlier duplicate of the field left
      doc.error = JsonlError::kFieldNotString;
      doc.message = "field \"" + std::string(field) + "\" is not a string";
      return;
    }
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && is_ws(s_[pos_])) ++pos_;
  }
  bool error(const char* message) {
    error_ = message;
    return false;
  }

  void fail(JsonlDocument& doc, const std::string& message) {
    doc.text.clear();
    // Python counts columns in characters of the decoded str.
    uint64_t column = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) column += (uint8_t(s_[i]) & 0xC0) != 0x80;
    doc.error = JsonlError::kMalformed;
    doc.message = "malformed JSON: " + message + ": column " + std::to_string(column);
  }

  // The end of the run from `pos` of bytes a JSON string holds as themselves (not '"', '\\' or a control
  // byte). Eight bytes at a time: this scan was a seventh of a one-thread `tokenize` of docs.jsonl byte by
  // byte. The zero-byte tests can flag a byte above a true match (a borrow runs upwards) but never one
  // below it, so the lowest flagged byte is the first stop.
  static size_t plain_run_end(std::string_view s, size_t pos) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    while (pos + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + pos, 8);
      if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
      const uint64_t stops =
          has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w & kHigh);
      if (stops) return pos + size_t(std::countr_zero(stops)) / 8;
      pos += 8;
    }
    while (pos < s.size() && s[pos] != '"' && s[pos] != '\\' && uint8_t(s[pos]) >= 0x20) ++pos;
    return pos;
  }

  // After the opening quote; `out` (if not null) receives the decoded text.
  bool string_body(std::string* out) {
    if (out) out->clear();
    while (true) {
      size_t start = pos_;
      pos_ = plain_run_end(s_, pos_);
      if (out) out->append(s_.data() + start, pos_ - start);
      if (pos_ >= s_.size()) return error("Unterminated string starting at");
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c != '\\') return error("Invalid control character at");
      ++pos_;
      if (pos_ >= s_.size()) return error("Unterminated string starting at");
      char e = s_[pos_++];
      char plain = 0;
      switch (e) {
        case '"':
          plain = '"';
          break;
        case '\\':
          plain = '\\';
          break;
        case '/':
          plain = '/';
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u':
          break;
        default:
          --pos_;
          return error("Invalid \\escape");
      }
      if (plain) {
        if (out) *out += plain;
        continue;
      }
      uint32_t cp;
      if (!hex4(&cp)) return false;
      if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
        size_t save = pos_;
        pos_ += 2;
        uint32_t low;
        if (!hex4(&low)) return false;  // Python reports the bad second escape too
        if (low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else {
          pos_ = save;  // not a pair: the second escape is read on its own
        }
      }
      if (out) append_utf8(*out, cp);
    }
  }

  bool hex4(uint32_t* cp) {
    if (pos_ + 4 > s_.size()) return error("Invalid \\uXXXX escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_value(s_[pos_ + i]);
      if (h < 0) return error("Invalid \\uXXXX escape");
      v = v * 16 + uint32_t(h);
    }
    pos_ += 4;
    *cp = v;
    return true;
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, as CPython's _match_number. Optional parts that do
  // not complete (like "1." or "1e") are not consumed: the caller then sees an unexpected character.
  bool number() {
    size_t p = pos_;
    if (p < s_.size() && s_[p] == '-') ++p;
    auto digit = [&](size_t i) { return i < s_.size() && s_[i] >= '0' && s_[i] <= '9'; };
    if (!digit(p)) return error("Expecting value");
    if (s_[p] == '0') {
      ++p;
    } else {
      while (digit(p)) ++p;
    }
    if (p < s_.size() && s_[p] == '.' && digit(p + 1)) {
      p += 2;
      while (digit(p)) ++p;
    }
    if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
      size_t q = p + 1;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      if (digit(q)) {
        while (digit(q)) ++q;
        p = q;
      }
    }
    pos_ = p;
    return true;
  }

  // Any JSON value at pos_ (after whitespace). Containers with an explicit stack: 'a' array, 'o' object.
  bool value(std::string* /*unused*/) {
    std::vector<char> stack;
    while (true) {
      // Parse one scalar or open a container.
      skip_ws();
      if (pos_ >= s_.size()) return error("Expecting value");
      char c = s_[pos_];
      bool opened = false;
      if (c == '{' || c == '[') {
        if (stack.size() >= kMaxDepth) return error("nesting too deep (Python raises RecursionError)");
        ++pos_;
        skip_ws();
        char close = c == '{' ? '}' : ']';
        if (peek() == close) {
          ++pos_;  // empty container: a complete value
        } else {
          stack.push_back(c == '{' ? 'o' : 'a');
          opened = true;
        }
      } else if (c == '"') {
        ++pos_;
        if (!string_body(nullptr)) return false;
      } else if (literal("null") || literal("true") || literal("false") || literal("NaN") || literal("Infinity") ||
                 literal("-Infinity")) {
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else {
        return error("Expecting value");
      }
      if (opened) {
        if (stack.back() == 'o' && !object_key()) return false;
        continue;  // parse the first element / member value
      }
      // A value is complete: close containers as long as they end here.
      while (true) {
        if (stack.empty()) return true;
        skip_ws();
        char sep = peek();
        char close = stack.back() == 'o' ? '}' : ']';
        if (sep == ',') {
          ++pos_;
          skip_ws();
          if (stack.back() == 'o' && !object_key()) return false;
          break;  // next element
        }
        if (sep == close) {
          ++pos_;
          stack.pop_back();
          continue;
        }
        return error("Expecting ',' delimiter");
      }
    }
  }

  // At a member of an object: "key" ws ':' (leaves pos_ at the value).
  bool object_key() {
    skip_ws();
    if (peek() != '"') return error("Expecting property name enclosed in double quotes");
    ++pos_;
    if (!string_body(nullptr)) return false;
    skip_ws();
    if (peek() != ':') return error("Expecting ':' delimiter");
    ++pos_;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

void parse_jsonl_document(std::string_view line, std::string_view field, JsonlDocument& doc) {
  if (simdjson::validate_utf8(line.data(), line.size())) {
    Parser(line).run(field, doc);
    doc.repaired = false;
    return;
  }
  const std::string repaired = utf8_replace_invalid(line);
  Parser(repaired).run(field, doc);
  doc.repaired = true;
}

JsonlDocument parse_jsonl_document(std::string_view line, std::string_view field) {
  JsonlDocument doc;
  parse_jsonl_document(line, field, doc);
  return doc;
}

}  // namespace tokenmill
