// Byte-pair encoding of one piece with tiktoken's rule: repeatedly merge the adjacent pair whose
// concatenated bytes have the lowest rank (leftmost on ties) until no adjacent pair is a token.
//
//   std::vector<Rank> ids;
//   tokenmill::byte_pair_encode(vocab, "unbelievable", ids);   // appends the piece's tokens
//
// The implementations give identical output: a flat array with a linear min-scan for short pieces (the
// common case: cache-resident, no allocation); a heap over a linked list for longer ones, O(n log n); for
// pieces longer than 16 KiB (a megabyte of one letter or of random letters) buckets on 16 KiB chunks with
// exact repair of the seams, linear and cache-resident; and, should a seam not settle within 64 KiB, the
// whole piece with per-rank buckets, O(n + vocabulary), or the heap.
#pragma once

#include <string_view>
#include <vector>

#include "tokenmill/vocab.h"

namespace tokenmill {

// Precondition: every byte value that occurs in `piece` is a single-byte token of `vocab` (Encoding checks
// this once when it is built).
void byte_pair_encode(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);

// The same, forcing one algorithm; for tests that hold them against each other. _large picks buckets or
// the heap by length; _buckets returns false (appending nothing) when the vocabulary makes a merge create a
// pair ranked below the merge itself, where only the heap keeps the exact order.
void byte_pair_encode_small(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);
void byte_pair_encode_large(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);
void byte_pair_encode_heap(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);
bool byte_pair_encode_buckets(const Vocabulary& vocab, std::string_view piece, std::vector<Rank>& out);
// Encodes chunk_bytes at a time and repairs the seams (exact for any vocabulary; the proof is in bpe.cc).
// Returns false, appending nothing, if a seam needs a repair window of more than 64 KiB; callers then
// encode the piece whole.
bool byte_pair_encode_chunked(const Vocabulary& vocab, std::string_view piece, size_t chunk_bytes,
                              std::vector<Rank>& out);

}  // namespace tokenmill
