// Encoding entry points on arbitrary bytes with the real cl100k_base and o200k_base vocabularies (from
// TOKENMILL_CACHE_DIR): no crash, decode_bytes(encode(x)) == x, count == size, and encode with every
// special allowed decodes back to the input too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tokenmill/encoding.h"

namespace {
const tokenmill::Encoding* encodings[2];
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenmill::LoadOptions options;
  options.fetch_if_missing = false;
  const char* names[] = {"cl100k_base", "o200k_base"};
  for (int i = 0; i < 2; ++i) {
    auto enc = tokenmill::Encoding::load(names[i], options);
    if (!enc.ok()) {
      std::fprintf(stderr, "%s\n", enc.error().c_str());
      std::abort();
    }
    encodings[i] = new tokenmill::Encoding(std::move(enc).value());
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const tokenmill::Encoding* enc : encodings) {
    auto ids = enc->encode_ordinary(input);  // built-in encodings never fail
    if (!ids.ok()) std::abort();
    auto back = enc->decode_bytes(*ids);
    if (!back.ok() || *back != input) std::abort();
    auto n = enc->count(input);
    if (!n.ok() || *n != ids->size()) std::abort();
    auto with_special = enc->encode(input, tokenmill::SpecialSet::all());
    if (with_special.ok()) {
      auto back2 = enc->decode_bytes(*with_special);
      if (!back2.ok() || *back2 != input) std::abort();
    }
    (void)enc->decode(*ids);
  }
  return 0;
}
