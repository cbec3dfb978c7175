// The JSON Lines record parser on arbitrary bytes: never crash; the document is always valid UTF-8; a
// document written back as a JSON string parses to the same text; errors and documents are exclusive.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tokenmill/dataset.h"

namespace {

std::string quote(std::string_view s) {
  std::string out = "{\"text\": \"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(uint8_t(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  tokenmill::JsonlDocument doc = tokenmill::parse_jsonl_document(line, "text");
  if (doc.error == tokenmill::JsonlError::kNone) {
    if (!doc.message.empty()) std::abort();
    if (!simdjson::validate_utf8(doc.text.data(), doc.text.size())) std::abort();
    tokenmill::JsonlDocument again = tokenmill::parse_jsonl_document(quote(doc.text), "text");
    if (again.error != tokenmill::JsonlError::kNone || again.text != doc.text || again.repaired) std::abort();
  } else if (doc.message.empty() || !doc.text.empty()) {
    std::abort();
  }
  return 0;
}
