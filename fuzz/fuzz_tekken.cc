// The tekken.json loader on arbitrary bytes: never crashes; what loads encodes a few fixed texts, every id
// is an ordinary one below vocab_size(), and they decode. (Not back to the text: as in tiktoken, text that
// no alternative of the file's pattern matches is skipped.)
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenmill/tekken.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tekken = tokenmill::Tekken::from_string(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!tekken.ok()) return 0;
  for (std::string_view text : {"", "Hello world", "  a\n\n<s>b\u00e9 123 e\u0301 \u65e5\u672c"}) {
    auto ids = tekken->encode(text, false, false);
    if (!ids.ok()) return 0;  // a pattern the regex engine gives up on is an error, not a crash
    for (uint32_t id : *ids) {
      if (id < tekken->num_special_tokens() || id >= tekken->vocab_size()) std::abort();
    }
    if (!tekken->decode(*ids).ok()) std::abort();
  }
  return 0;
}
