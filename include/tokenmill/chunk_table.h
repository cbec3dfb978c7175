// Chunk count tables: stage 1 of training (train.h) on disk, for corpora counted on many machines.
//
//   tokenmill count --chunks -o part1.chunks shard1.txt        # on machine 1 (and so on)
//   tokenmill count --merge -o all.chunks part1.chunks part2.chunks
//   tokenmill train --from-counts all.chunks --vocab-size 32768 -o m.model
//
//   write_chunk_table(counter, "part1.chunks");                 // C++: the same
//   auto counter = read_chunk_table("part1.chunks");            // Result<ChunkCounter>
//   add_chunk_table("part2.chunks", *counter);                  // patterns must be equal
//   auto trained = train_bpe(std::move(*counter), options);     // = training on the text itself
//
// Training depends only on the multiset of chunks (each distinct chunk and its count), never on their
// order, so training from a merged table gives exactly the merges of training on all the text at once.
//
// File format, version 1. All integers little-endian.
//
//   offset  size  field
//   0       8     magic "TMCHUNKS"
//   8       4     u32 version = 1 (readers reject other versions)
//   12      4     u32 flags = 0 (reserved; readers reject non-zero)
//   16      8     u64 documents   (documents counted, for the summary)
//   24      8     u64 total       (chunks counted with repetition = the sum of all counts)
//   32      8     u64 entries     (distinct chunks)
//   40      4     u32 pattern length P
//   44      P     the split pattern (UTF-8): chunks from different patterns never mix
//   then `entries` times:
//           4     u32 chunk length L (>= 1)
//           L     chunk bytes (valid UTF-8)
//           8     u64 count (>= 1)
//   then    8     u64 checksum: FNV-1a 64 of every byte before it
//   and nothing after.
//
// Entries are sorted by their bytes (unsigned, shorter first on a common prefix) without duplicates, so a
// table is canonical: the same chunks always give the same file, whatever order or how many threads or
// machines counted them. Files are written atomically (temporary file + rename). Readers check the magic,
// version, order, sizes, the total and the checksum, and say which check failed.
#pragma once

#include <string>

#include "tokenmill/status.h"
#include "tokenmill/train.h"

namespace tokenmill {

inline constexpr uint32_t kChunkTableVersion = 1;

// Writes the counter's chunks (and documents(), total_chunks()) to `path`, whole or not at all.
Status write_chunk_table(const ChunkCounter& counter, const std::string& path);

// A new counter holding the table's chunks, counts, documents and pattern.
Result<ChunkCounter> read_chunk_table(const std::string& path);

// Adds the table's chunks to `counter`. Fails (naming the file and both patterns) if the table was made
// with another pattern; on a corrupt table `counter` may hold part of it: discard it.
Status add_chunk_table(const std::string& path, ChunkCounter& counter);

}  // namespace tokenmill
