#include "util/json_error_location.h"

#include <simdjson.h>

#include <algorithm>

#include "tokenmill/detail/unicode_class.h"

namespace tokenmill::util {

namespace {

namespace od = simdjson::ondemand;

// The walk recurses, so it stops here (a tokenizer.json nests a few levels): its stack stays small on
// any thread, under sanitizers too.
constexpr size_t kMaxDepth = 128;

// Visits every value, so every part of the text is checked: On-Demand parses only what is read.
simdjson::error_code walk(od::value v, size_t depth) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto e = v.get_object().get(object)) return e;
      for (auto field : object) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        od::value child;
        if (auto e = field.value().get(child)) return e;
        if (auto e = walk(child, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      if (auto e = v.get_array().get(array)) return e;
      for (auto element : array) {
        od::value child;
        if (auto e = element.get(child)) return e;
        if (auto e = walk(child, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::SUCCESS;
}

}  // namespace

std::optional<size_t> json_error_offset(std::string_view json) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(json.data());
  if (const size_t valid = detail::valid_utf8_prefix(bytes, json.size()); valid < json.size()) return valid;
  const simdjson::padded_string text(json);
  od::parser parser;
  od::document doc;
  // A failure here (stage 1: an unterminated string, nesting too deep) leaves no position to read.
  if (parser.iterate(text).get(doc)) return std::nullopt;
  od::value root;
  // The walk stops where it fails; a clean one stands after the top-level value. Stopped by the depth
  // bound, it has not reached the error.
  if (!doc.get_value().get(root) && walk(root, 1) == simdjson::DEPTH_ERROR) return std::nullopt;
  const char* at = nullptr;
  if (doc.current_location().get(at)) return std::nullopt;  // at the end: nothing left to point at
  if (at < text.data() || at > text.data() + json.size()) return std::nullopt;
  return size_t(at - text.data());
}

std::string describe_offset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "byte " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " +
         std::to_string(offset - line_start + 1) + ")";
}

}  // namespace tokenmill::util
