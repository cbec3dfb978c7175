// The training JSON Lines reader on arbitrary bytes (through fmemopen): never crashes; a file it accepts
// yields documents that are valid UTF-8 (each chunk counted is), and one thread and two count the same.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tokenmill/detail/unicode_class.h"
#include "tokenmill/train.h"

namespace {

bool count(std::string_view input, unsigned threads, tokenmill::ChunkCounter& counter) {
  std::FILE* f = fmemopen(const_cast<char*>(input.data()), input.size(), "rb");
  if (f == nullptr) return false;
  tokenmill::CorpusReader reader(counter, {.format = tokenmill::InputFormat::kJsonl, .threads = threads});
  tokenmill::Status s = reader.add_stream(f, "fuzz");
  std::fclose(f);
  return s.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;  // fmemopen of an empty buffer fails
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto one = tokenmill::ChunkCounter::create(tokenmill::kGpt4Pattern);
  auto two = tokenmill::ChunkCounter::create(tokenmill::kGpt4Pattern);
  if (!one.ok() || !two.ok()) std::abort();
  const bool ok1 = count(input, 1, *one), ok2 = count(input, 2, *two);
  if (ok1 != ok2) std::abort();
  if (!ok1) return 0;
  if (one->total_chunks() != two->total_chunks() || one->distinct_chunks() != two->distinct_chunks()) std::abort();
  for (size_t i = 0; i < one->distinct_chunks(); ++i) {
    std::string_view c = one->chunk(i);
    if (tokenmill::detail::valid_utf8_prefix(reinterpret_cast<const unsigned char*>(c.data()), c.size()) != c.size()) {
      std::abort();
    }
  }
  return 0;
}
