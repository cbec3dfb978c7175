// The model file parser on arbitrary bytes: never crashes; a file that parses writes back and parses to
// the same model, and building its encoding (which compiles its pattern) and encoding a text never crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenmill/train.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto model = tokenmill::BpeModel::parse_model_file(input, "fuzz");
  if (!model.ok()) return 0;
  const std::string written = model->to_model_file();
  auto again = tokenmill::BpeModel::parse_model_file(written, "fuzz-rewritten");
  if (!again.ok() || again->to_model_file() != written) std::abort();
  auto enc = model->encoding("fuzz");
  if (enc.ok()) {
    auto ids = enc->encode_ordinary("Hello, world! 123 \xc3\xa9\n");
    if (ids.ok()) (void)enc->decode_bytes(*ids);
  }
  return 0;
}
