// Record driver for the differential tests: reads length-prefixed byte strings on stdin, writes the
// tokenmill result for each on stdout, so one process serves thousands of cases.
//
//   encode_records ENCODING MODE < records > results      (ENCODING: a built-in name, model:PATH or tekken:PATH)
//   record in : u32le length, bytes
//   MODE ordinary   -> u32le n, n x u32le ids          (Encoding::encode_ordinary; any bytes)
//   MODE bytes      -> u32le n, n x u32le ids          (Encoding::encode_bytes)
//   MODE special    -> u32le n, n x u32le ids          (encode, allowed_special = all)
//   MODE count      -> u32le n                         (Encoding::count)
//   MODE split      -> u32le n, n x (u32le len, bytes) (the pre-tokenizer's pieces)
//   MODE split_regex-> as split, through PCRE2 with the same pattern (the splitters' reference)
// On error: u32le 0xFFFFFFFF, then u32le length + message.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/tekken.h"
#include "tokenmill/train.h"

namespace {

bool read_exact(void* buf, size_t n) { return std::fread(buf, 1, n, stdin) == n; }
void put_u32(uint32_t v) { std::fwrite(&v, 4, 1, stdout); }  // x86-64/aarch64: little-endian

void put_ids(const std::vector<tokenmill::Rank>& ids) {
  put_u32(uint32_t(ids.size()));
  if (!ids.empty()) std::fwrite(ids.data(), 4, ids.size(), stdout);
}

void put_error(const std::string& msg) {
  put_u32(0xFFFFFFFFu);
  put_u32(uint32_t(msg.size()));
  std::fwrite(msg.data(), 1, msg.size(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: encode_records ENCODING MODE < records\n");
    return 2;
  }
  // "model:PATH": the encoding of a tokenmill model file (custom patterns and ranks); "tekken:PATH": that
  // of a Mistral tekken.json (ids offset by its special tokens).
  const std::string name = argv[1];
  auto enc = [&]() -> tokenmill::Result<tokenmill::Encoding> {
    if (name.rfind("tekken:", 0) == 0) {
      auto tekken = tokenmill::Tekken::from_file(name.substr(7));
      if (!tekken.ok()) return tekken.status();
      return tekken->encoding();
    }
    if (name.rfind("model:", 0) != 0) return tokenmill::Encoding::load(name);
    auto model = tokenmill::BpeModel::load_model_file(name.substr(6));
    if (!model.ok()) return model.status();
    return model->encoding("model");
  }();
  if (!enc.ok()) {
    std::fprintf(stderr, "%s\n", enc.error().c_str());
    return 1;
  }
  const std::string mode = argv[2];
  auto regex = tokenmill::Pretokenizer::create_regex(enc->pattern());
  if (!regex.ok()) {
    std::fprintf(stderr, "%s\n", regex.error().c_str());
    return 1;
  }
  std::string text;
  uint32_t len;
  while (read_exact(&len, 4)) {
    text.resize(len);
    if (len && !read_exact(text.data(), len)) {
      std::fprintf(stderr, "truncated record\n");
      return 1;
    }
    if (mode == "ordinary") {
      auto r = enc->encode_ordinary(text);
      if (r.ok())
        put_ids(*r);
      else
        put_error(r.error());
    } else if (mode == "bytes") {
      auto r = enc->encode_bytes(text);
      if (r.ok())
        put_ids(*r);
      else
        put_error(r.error());
    } else if (mode == "special") {
      auto r = enc->encode(text, tokenmill::SpecialSet::all());
      if (r.ok()) put_ids(*r); else put_error(r.error());
    } else if (mode == "count") {
      auto n = enc->count(text);
      if (!n.ok()) {
        std::fprintf(stderr, "%s\n", n.error().c_str());
        return 1;
      }
      put_u32(uint32_t(*n));
    } else if (mode == "split" || mode == "split_regex") {
      std::vector<std::string_view> pieces;
      const auto& pre = mode == "split" ? enc->pretokenizer() : *regex;
      tokenmill::Status s = pre.for_each_piece(text, [&](std::string_view p) { pieces.push_back(p); });
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.message().c_str());
        return 1;
      }
      put_u32(uint32_t(pieces.size()));
      for (auto p : pieces) {
        put_u32(uint32_t(p.size()));
        std::fwrite(p.data(), 1, p.size(), stdout);
      }
    } else {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  }
  std::fflush(stdout);
  return 0;
}
