// A custom split pattern and a text, both from the input (the pattern is everything before the first
// newline, the text the rest): compiling any bytes as a pattern never crashes (a pattern that is not UTF-8
// is an error), and matching either succeeds with pieces that are ordered, disjoint slices of the text, or
// is an error (PCRE2 gave up) -- never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenmill/pretokenize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view pattern = input.substr(0, nl), text = input.substr(nl + 1);
  auto pre = tokenmill::Pretokenizer::create(pattern);
  if (!pre.ok()) return 0;
  const char* next = text.data();
  tokenmill::Status s = pre->for_each_piece(text, [&](std::string_view piece) {
    if (piece.data() < next || piece.data() + piece.size() > text.data() + text.size()) std::abort();
    next = piece.data() + piece.size();
  });
  (void)s;  // an error is a valid outcome; what matters is that it is reported and nothing crashed
  return 0;
}
