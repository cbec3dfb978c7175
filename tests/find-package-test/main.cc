// Builds a byte-level encoding with one merge from nothing but the installed headers and library, and
// checks a round trip; exits non-zero on any failure.
#include <cstdio>

#include "tokenmill/encoding.h"

int main() {
  std::vector<std::pair<std::string, tokenmill::Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), tokenmill::Rank(b));
  ranks.emplace_back("ab", 256);
  auto vocab = tokenmill::Vocabulary::from_ranks(ranks);
  if (!vocab.ok()) return 1;
  tokenmill::EncodingSpec spec{"installed", std::string(tokenmill::kCl100kPattern), std::move(vocab).value(),
                               {{"<|end|>", 257}}, std::nullopt};
  auto enc = tokenmill::Encoding::create(std::move(spec));
  if (!enc.ok()) return 2;
  auto ids = enc->encode("abc ab<|end|>", tokenmill::SpecialSet::all());
  if (!ids.ok()) return 3;
  auto back = enc->decode(*ids);
  if (!back.ok() || *back != "abc ab<|end|>") return 4;
  // The one merge was used and the special token kept whole.
  if ((*ids)[0] != 256 || ids->back() != 257) return 5;
  std::printf("find_package(tokenmill): %zu ids, round trip ok\n", ids->size());
  return 0;
}
