// Rank-file parsers on arbitrary bytes: never crash; whatever parses must write back and re-parse to the
// same vocabulary.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenmill/fetch.h"
#include "tokenmill/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto vocab = tokenmill::Vocabulary::parse_tiktoken(input, "fuzz");
  if (vocab.ok()) {
    std::string written = vocab->to_tiktoken();
    auto again = tokenmill::Vocabulary::parse_tiktoken(written, "fuzz-rewritten");
    if (!again.ok() || again->to_tiktoken() != written || again->size() != vocab->size()) std::abort();
    for (tokenmill::Rank r = 0; r < vocab->rank_limit(); ++r) {
      if (vocab->contains_rank(r) && vocab->find(vocab->token_bytes(r)) != r) std::abort();
    }
  }
  auto converted = tokenmill::npm_bpe_ranks_to_tiktoken(input, "fuzz-npm");
  if (converted.ok()) (void)tokenmill::Vocabulary::parse_tiktoken(*converted, "fuzz-npm");
  return 0;
}
