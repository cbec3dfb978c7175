// Training: learning a byte-level BPE vocabulary from text, with exactly the merges of Karpathy's rustbpe
// 0.1.0 (the trainer behind nanochat), then handing it to tokenmill's encoder or to tiktoken.
//
//   auto counter = tokenmill::ChunkCounter::create(tokenmill::kGpt4Pattern);   // rustbpe's default
//   tokenmill::CorpusReader reader(*counter, {});                               // each line is a document
//   if (auto s = reader.add_file("en.txt"); !s.ok()) { std::cerr << s.message() << "\n"; return 1; }
//   auto trained = tokenmill::train_bpe(*counter, {.vocab_size = 32768});
//   if (!trained.ok()) { ... }                                                   // errors are values
//   trained->model.write_file("en.model");                                      // ranks + pattern + specials
//   auto enc = trained->model.encoding("en");                                   // Result<Encoding>
//
// Training runs in two stages, each of which is a type here:
//
//  1. Counting (ChunkCounter, fed by CorpusReader): every document is cut into chunks by the split pattern
//     (tokenmill's Pretokenizer: hand-written scanners for the GPT-4 / nanochat patterns, PCRE2 for any
//     other), and each distinct chunk is counted (64-bit counts). A chunk never crosses a document
//     boundary. Memory grows with the number of distinct chunks, never with the corpus: files are read in
//     blocks and only the chunk table is kept.
//  2. Merging (train_bpe): each distinct chunk becomes a sequence of byte ids 0..255. Repeatedly the pair
//     of adjacent ids with the highest count wins, where a pair's count is the number of adjacent positions
//     holding it in each chunk times that chunk's frequency; among equal counts the smallest
//     (left_id, right_id) wins. Merge k gets id 256 + k and replaces the pair in every chunk, left to right
//     without overlap. Training stops at vocab_size, or earlier when no pair is left (then
//     TrainResult::merges.size() says how many were made). This is rustbpe's rule exactly, so the merges
//     are identical to rustbpe's for the same documents and pattern (tests/differential checks it).
//
// What rustbpe's `train_from_iterator(open(path))` sees is what CorpusReader produces in `lines` mode:
// Python's text mode reads with universal newlines (`\r\n` and a lone `\r` become `\n`) and every line,
// with its trailing `\n`, is one document. Invalid UTF-8 (which Python would refuse) is replaced by
// U+FFFD per maximal invalid subpart, as Python's `errors="replace"` does, so the trainer only ever sees
// valid text, like rustbpe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/pretokenize.h"
#include "tokenmill/status.h"
#include "tokenmill/vocab.h"

namespace tokenmill {

// ---------------------------------------------------------------------------------------------------
// Stage 1: counting distinct chunks.

class ChunkCounter {
 public:
  // Fails if the pattern does not compile (the message says why).
  static Result<ChunkCounter> create(std::string_view pattern);

  ChunkCounter(ChunkCounter&&) noexcept;
  ChunkCounter& operator=(ChunkCounter&&) noexcept;
  ~ChunkCounter();

  // Cuts one document into chunks by the pattern and counts each. `text` must be valid UTF-8
  // (CorpusReader guarantees it); chunks never extend past `text`. Fails only where a custom pattern's
  // regex gives up on a match; the counts then hold part of the document, so the caller must stop.
  Status add_document(std::string_view text);
  // Adds `count` occurrences of one chunk as it is (no splitting): for count tables and tests.
  void add_chunk(std::string_view chunk, uint64_t count);
  // Adds every chunk of `other` with its count, and its documents. Fails if the patterns differ
  // (chunks cut by different patterns must not be mixed).
  Status merge(const ChunkCounter& other);
  // Adds n to documents() without counting any text (documents counted elsewhere: a count table).
  void add_documents(uint64_t n);

  const std::string& pattern() const;
  uint64_t documents() const;      // add_document calls
  uint64_t total_chunks() const;   // chunks counted, with repetition
  size_t distinct_chunks() const;  // distinct chunks; chunk(i) / count(i) for i below this
  std::string_view chunk(size_t i) const;
  uint64_t count(size_t i) const;
  // Bytes held by the table (arena + slots + counts), for the summary.
  size_t memory_bytes() const;

 private:
  struct Impl;
  explicit ChunkCounter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How files become documents.
enum class InputFormat {
  kLines,  // every line (with its '\n') is a document: Python's `for line in open(path)`
  kWhole,  // the whole file is one document (read whole: a document has to fit in memory)
  kJsonl,  // JSON Lines: one object per line, the document is its string field `jsonl_field`
  // Fixed-size character chunks: each file is read as Python's open(path).read() (universal newlines,
  // invalid UTF-8 replaced) and cut into documents of `chunk_chars` characters (code points), the last one
  // of a file shorter: `[text[i:i+n] for i in range(0, len(text), n)]`. A document never spans two files.
  // Streams: memory holds one block and one document.
  kChunks,
};

struct CorpusOptions {
  InputFormat format = InputFormat::kLines;
  std::string jsonl_field = "text";
  // kChunks: characters per document (must be > 0).
  uint64_t chunk_chars = 0;
  // nanochat's tok_train.py: each document is truncated to doc_cap characters (code points), and reading
  // stops after the document that brings the total past max_chars. 0 = no limit.
  uint64_t doc_cap = 0;
  uint64_t max_chars = 0;
  // Called after each block read with the total bytes read so far (progress display).
  std::function<void(uint64_t bytes_read)> on_progress;
  // Counting threads (0 = one per core). Above 1, this thread reads and cuts files into documents and hands
  // them in batches of about 1 MB to worker threads, each with its own chunk table; the tables are merged
  // into the counter at the end of each file. The counts, and so the merges, are those of one thread;
  // memory is up to one chunk table per thread.
  unsigned threads = 1;
};

// Reads files into a ChunkCounter, block by block, so memory stays bounded by the chunk table (and the
// longest document). Totals (documents, characters, the max_chars budget) run across all files added.
class CorpusReader {
 public:
  CorpusReader(ChunkCounter& counter, CorpusOptions options);
  ~CorpusReader();

  // A file, or "-" for standard input. Errors name the file (and the line, for JSON Lines).
  Status add_file(const std::string& path);
  // An open stream; `name` is used in error messages.
  Status add_stream(std::FILE* stream, const std::string& name);

  // True once max_chars is exceeded: later add_file calls read nothing.
  bool done() const { return done_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t documents() const { return documents_; }
  uint64_t chars() const { return chars_; }

 private:
  Status read_lines(std::FILE* f, const std::string& name, bool jsonl);
  Status read_whole(std::FILE* f, const std::string& name);
  Status read_chunks(std::FILE* f, const std::string& name);
  // Applies doc_cap / max_chars, then counts the document. `text` is valid UTF-8.
  Status add_document(std::string_view text);

  // threads > 1: batches the documents of the current file for the worker threads; finish_stream waits
  // for them and merges their tables into counter_.
  struct Parallel;
  Status finish_stream();

  ChunkCounter& counter_;
  CorpusOptions options_;
  std::unique_ptr<Parallel> parallel_;
  bool done_ = false;
  uint64_t bytes_read_ = 0;
  uint64_t documents_ = 0;
  uint64_t chars_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Stage 2: merging.

// A trained (or loaded) model: the ranks, the split pattern they were trained with, and special tokens.
// The pattern travels with the ranks so that training and inference can never disagree.
struct BpeModel {
  std::string pattern;
  Vocabulary ranks;  // rank = token id; ids 0..255 are the single bytes
  std::vector<std::pair<std::string, Rank>> special_tokens;

  // The model file, version 2 (text, one record per line):
  //
  //   tokenmill-model 2
  //   pattern <base64 of the split pattern>
  //   special <base64 of the token> <id>        (zero or more)
  //   ranks <number of rank lines that follow>
  //   <base64 of token bytes> <rank>            (the .tiktoken format, in rank order)
  //   sha256 <hex digest of every byte before this line>
  //
  // Base64 keeps patterns and tokens with spaces or newlines on one line. The version number is the
  // second word of the first line; readers reject versions they do not know. Version 1 is the same
  // without the checksum line, and is still read. Loading reads at most kMaxRankFileBytes.
  std::string to_model_file() const;
  static Result<BpeModel> parse_model_file(std::string_view contents, std::string_view source_name);
  static Result<BpeModel> load_model_file(const std::string& path);

  // Writes the model file / the .tiktoken rank file atomically: a temporary file in the same folder,
  // renamed into place only when complete, so a failed run never leaves a complete-looking file.
  Status write_model_file(const std::string& path) const;
  Status write_tiktoken_file(const std::string& path) const;

  // What tiktoken.Encoding / tokenmill::Encoding::create need.
  EncodingSpec encoding_spec(std::string name) const;
  Result<Encoding> encoding(std::string name) const;
};

struct TrainOptions {
  // Total ids after training, before special tokens: 256 bytes + merges. 256 <= vocab_size <= 2^31.
  uint64_t vocab_size = 0;
  // Appended after the merges (nanochat's scheme): ids vocab_size_reached, +1, ... in this order.
  std::vector<std::string> special_tokens;
  // Called every so often during the merge loop with (merges done, merges requested).
  std::function<void(uint32_t done, uint32_t requested)> on_progress;
};

struct TrainResult {
  BpeModel model;
  // Merge k: (left id, right id) -> id 256 + k, in the order learned.
  std::vector<std::pair<Rank, Rank>> merges;
  uint32_t merges_requested = 0;  // vocab_size - 256; merges.size() is less when no pair was left
  uint64_t initial_pairs = 0;     // distinct byte pairs before the first merge
  double seconds_setup = 0;       // chunks -> id sequences, initial pair counts, heap
  double seconds_merge = 0;       // the merge loop
};

// Trains on the counted chunks. Errors: vocab_size out of range, no chunk at all (empty corpus), a special
// token that is empty or repeated.
Result<TrainResult> train_bpe(const ChunkCounter& counter, const TrainOptions& options);
// The same, but frees the chunk table as soon as the merge loop's own copy of the chunks is built (lower
// peak memory). The counter is left empty: only destroy or assign to it afterwards.
Result<TrainResult> train_bpe(ChunkCounter&& counter, const TrainOptions& options);

}  // namespace tokenmill
