// Byte-pair encoding of one piece with tiktoken's rule: repeatedly merge the adjacent pair whose
// concatenated bytes have the lowest rank (leftmost on ties) until no adjacent pair is a token.
//
//   std::vector<Rank> ids;
//   tokenmill::byte_pair_encode(vocab, "unbelievable", ids);   // appends the piece's tokens
//
// Two implementations give identical output: a flat array with a linear min-scan for short pieces (the
// common case: cache-resident, no allocation), and a heap over a linked list for long ones, O(n log n),
// so a megabyte-long piece (a run of one letter) stays fast.
#pragma once

#include <string_view>
#include <vector>

#include "tokenmill/vocab.h"

namespace tokenmill {

// Precondition: every byte value that occurs in `piece` is a single-byte token of `vocab` (Encoding checks
// this once when it is built).
void byte_pair_encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);

// The same, forcing one algorithm; for tests that hold the two against each other.
void byte_pair_encode_small(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);
void byte_pair_encode_large(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);

}  // namespace tokenmill
