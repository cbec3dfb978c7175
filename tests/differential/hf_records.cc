// Record driver for tests/differential/test_hf_tokenizer.py: loads a tokenizer.json, reads records on stdin,
// writes everything HF's Python Encoding exposes (and both decodes) for each, after checking that the ids-only
// encode_ids gives the same ids as encode.
//
//   hf_records TOKENIZER_JSON < records > results
//   record in : u32le flags (bit 0: add_special_tokens), u32le length, bytes
//   result    : u32le n; n ids; n type ids; n special-token mask; n word ids (0xFFFFFFFF = None);
//               n x (begin, end) character offsets; n tokens (u32le length, bytes);
//               decode(skip_special_tokens=true), decode(skip_special_tokens=false) (u32le length, bytes)
//   on error  : u32le 0xFFFFFFFF, u32le length, message
//   A load error is printed on stderr, exit status 1.
#include <cstdio>
#include <string>
#include <vector>

#include "tokenmill/tokenizer.h"

namespace {

bool read_exact(void* buf, size_t n) { return std::fread(buf, 1, n, stdin) == n; }
void put_u32(uint32_t v) { std::fwrite(&v, 4, 1, stdout); }  // x86-64/aarch64: little-endian
void put_bytes(const std::string& s) {
  put_u32(uint32_t(s.size()));
  std::fwrite(s.data(), 1, s.size(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hf_records TOKENIZER_JSON < records\n");
    return 2;
  }
  auto tok = tokenmill::Tokenizer::from_file(argv[1]);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.error().c_str());
    return 1;
  }
  std::string text;
  uint32_t flags, len;
  while (read_exact(&flags, 4) && read_exact(&len, 4)) {
    text.resize(len);
    if (len && !read_exact(text.data(), len)) {
      std::fprintf(stderr, "truncated record\n");
      return 1;
    }
    tokenmill::Tokenizer::EncodeOptions options;
    options.add_special_tokens = flags & 1;
    options.char_offsets = true;
    auto enc = tok->encode(text, options);
    if (!enc.ok()) {
      put_u32(0xFFFFFFFFu);
      put_bytes(enc.error());
      continue;
    }
    // The ids-only path (a fused fast path for common model shapes) must give the same ids.
    auto ids = tok->encode_ids(text, options.add_special_tokens);
    if (!ids.ok() || *ids != enc->ids) {
      put_u32(0xFFFFFFFFu);
      put_bytes(ids.ok() ? "encode_ids differs from encode(...).ids" : "encode_ids failed: " + ids.error());
      continue;
    }
    const size_t n = enc->size();
    put_u32(uint32_t(n));
    for (auto* v : {&enc->ids, &enc->type_ids, &enc->special_tokens_mask}) {
      for (uint32_t x : *v) put_u32(x);
    }
    for (auto w : enc->word_ids) put_u32(w ? *w : 0xFFFFFFFFu);
    for (auto [b, e] : enc->offsets) {
      put_u32(b);
      put_u32(e);
    }
    for (const auto& t : enc->tokens) put_bytes(t);
    put_bytes(tok->decode(enc->ids, true).value());
    put_bytes(tok->decode(enc->ids, false).value());
  }
  std::fflush(stdout);
  return 0;
}
