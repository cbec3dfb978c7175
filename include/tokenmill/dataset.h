// Datasets: corpora -> token shards in the formats trainers read (Megatron, nanoGPT, llm.c).
//
//   auto enc = tokenmill::Encoding::load("cl100k_base");
//   tokenmill::TokenizeOptions opt;
//   opt.output_prefix = "out/web";                       // out/web.bin + out/web.idx + out/web.manifest.json
//   opt.format = tokenmill::ShardFormat::kMegatron;
//   opt.separator = tokenmill::Separator::kEos;          // Megatron's --append-eod
//   opt.threads = 8;
//   auto summary = tokenmill::tokenize_files(*enc, "cl100k_base", {"a.jsonl.zst", "b.jsonl"}, opt);
//   if (!summary.ok()) { std::cerr << summary.error() << "\n"; }   // names file and line (or offset)
//
// The stages, each in its own file under src/dataset/:
//   byte sources    plain files, gzip (zlib), zstd (libzstd): decompressed blocks; a truncated or corrupt
//                   stream is an error naming the file and the compressed offset.
//   documents       lines (Python's `for line in open(path, errors="replace")`: universal newlines, each
//                   line with its "\n"), whole files (`open(path).read()`), JSON Lines (one object per
//                   "\n"-terminated line as the JSON Lines format has it, "\r" being JSON whitespace; line
//                   numbers in errors count lines these two ways; the document is its string field, parsed
//                   as Python's json.loads does: the last of
//                   duplicate keys wins; invalid UTF-8 is replaced as errors="replace" before parsing).
//   encoding        any Encoding (built-in or a trained model), on a pool of threads, in batches.
//   shards          megatron / nanogpt / llmc writers; each shard file written atomically.
//   manifest        PREFIX.manifest.json: inputs (size, sha256), tokenizer (name, sha256), options, the
//                   complete shards (documents, tokens, sha256 of each file) and the counts of skipped and
//                   repaired documents. Rewritten atomically after every shard: it says what is complete.
//
// Determinism: documents are numbered in input order and batches are written in that order whatever the
// thread count, so the output is byte-identical for any `threads`. Shard boundaries depend only on the
// token counts. Resume: a run that finds a manifest of an unfinished run with the same inputs, tokenizer
// and options keeps its complete shards, skips the documents they hold, and writes the rest; the result is
// byte-identical to an uninterrupted run. A shard either exists complete or not at all (temporary file,
// fsync, rename), so a kill -9 or a full disk (the error says "No space left on device") never leaves a
// shard that looks complete.
//
// Memory is bounded: a few batches (about 1 MB of text each) per thread are in flight, plus the shard
// being built (its tokens: `shard_tokens` ids; with shard_tokens = 0 the whole output is one shard and its
// index entries are kept, 4 to 8 bytes per document, while its tokens stream to the temporary file).
//
// The library never prints: progress arrives through TokenizeOptions::on_progress.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill {

// ---------------------------------------------------------------------------------------------------
// One JSON Lines record -> document text, with Python's json.loads semantics. Separate from the readers
// so that a fuzzer can drive it.

enum class JsonlError {
  kNone,
  kMalformed,       // not valid JSON (Python: json.JSONDecodeError), or not an object
  kMissingField,    // an object without the field
  kFieldNotString,  // the field holds a number, null, array, ...
};

struct JsonlDocument {
  JsonlError error = JsonlError::kNone;
  std::string message;    // why, with the column (1-based, in characters as Python counts after decoding)
  std::string text;       // the field's value as UTF-8 (lone surrogates \ud800 become U+FFFD)
  bool repaired = false;  // the line was not valid UTF-8 and was replaced before parsing
};

// `line` is one line without its "\n"; bytes that are not UTF-8 are replaced first (errors="replace").
// Accepts what Python's json.loads accepts (NaN, Infinity, -Infinity, numbers of any length) and rejects
// what it rejects (control characters in strings, trailing commas, ...); nesting deeper than 1000 levels
// is malformed (Python raises RecursionError near there).
JsonlDocument parse_jsonl_document(std::string_view line, std::string_view field);
// The same into `doc`, reusing its buffers: a reader that parses line after line into one JsonlDocument
// stops allocating once its text has grown to the longest document.
void parse_jsonl_document(std::string_view line, std::string_view field, JsonlDocument& doc);

// ---------------------------------------------------------------------------------------------------
// Tokenizing.

// What documents are encoded with: a tiktoken-style Encoding (built-in or trained), or a Hugging Face
// tokenizer.json model through tokenmill::Tokenizer.
struct DatasetTokenizer {
  std::string name;    // for the manifest (an encoding's name, a file path)
  std::string sha256;  // for the manifest: of what defines the ids (encoding_sha256, the tokenizer file's sha256)
  uint32_t n_vocab = 0;
  std::optional<Rank> eot;  // the default separator: <|endoftext|> if the vocabulary has it
  // Appends the ids of a batch of documents to `out` (document i is text[ends[i-1], ends[i]), ends[-1] = 0),
  // each between begin_token and end_token (kNoRank: none), and out.size() to token_ends after each. On an
  // error, the documents before the failing one are complete in out and token_ends.
  std::function<Status(std::string_view text, std::span<const size_t> ends, std::vector<Rank>& out,
                       std::vector<size_t>& token_ends, Rank begin_token, Rank end_token)>
      encode_documents;
  // A token's id by its name (for TokenizeOptions::separator_token).
  std::function<std::optional<Rank>(std::string_view token)> token_id;

  static DatasetTokenizer of(const Encoding& encoding, std::string name);
  // `file_sha256`: of the tokenizer.json file. `add_special_tokens`: apply its post-processor template
  // (HF's encode default is on; for corpora it is off, the separator is given instead).
  static DatasetTokenizer of(const Tokenizer& tokenizer, std::string name, std::string file_sha256,
                             bool add_special_tokens = false);
  // Loads a tokenizer.json file (named by its path, hashed from the bytes read).
  static Result<DatasetTokenizer> from_tokenizer_file(const std::string& path, bool add_special_tokens = false);
};

enum class DocumentFormat {
  kAuto,   // .jsonl/.json/.ndjson (optionally .gz/.zst) -> kJsonl, anything else -> kLines
  kLines,  // each line (with its "\n") is a document
  kWhole,  // each file is a document
  kJsonl,  // each line is a JSON object; the document is its string field `jsonl_field`
};

enum class ShardFormat {
  // PREFIX.bin + PREFIX.idx, megatron-core IndexedDataset: "MMIDIDX\0\0", uint64 version 1, uint8 dtype
  // code (8 = uint16 when n_vocab < 65500, else 4 = int32), uint64 sequence count, uint64 document count
  // (documents + 1), int32 lengths, int64 byte pointers, int64 document indices 0..n. One sequence per
  // document.
  kMegatron,
  // PREFIX.bin: raw little-endian uint16 (n_vocab <= 65536) or uint32 tokens, nanoGPT's train.bin;
  // PREFIX.offsets: little-endian uint64 token offsets of the documents, documents + 1 of them from 0.
  kNanogpt,
  // llm.c: each shard a 1024-byte header of 256 little-endian int32 (magic 20240520, version 1, token
  // count, zeros) then uint16 tokens. Shards hold exactly shard_tokens tokens (the last one fewer): as
  // llm.c's fineweb.py, a document that crosses a shard boundary continues in the next shard.
  kLlmc,
};

enum class Separator {
  kNone,
  kBos,  // separator id before every document (nanochat, llm.c)
  kEos,  // separator id after every document (Megatron --append-eod, nanoGPT)
};

struct TokenizeProgress {
  uint64_t input_bytes = 0;       // sum of the input sizes (0 if unknown, e.g. standard input)
  uint64_t input_bytes_read = 0;  // raw (compressed) bytes read so far
  uint64_t documents = 0;         // documents written (including those kept from a resumed run)
  uint64_t tokens = 0;            // tokens written
  uint64_t shards = 0;            // shards complete
  double seconds = 0;             // since the start of this run
};

struct TokenizeOptions {
  // Output: PREFIX.bin / .idx / .offsets (one shard), or PREFIX_000000.bin, ... (several, or always for
  // llmc), and PREFIX.manifest.json.
  std::string output_prefix;
  ShardFormat format = ShardFormat::kMegatron;
  DocumentFormat input_format = DocumentFormat::kAuto;
  std::string jsonl_field = "text";
  Separator separator = Separator::kEos;
  // Default: the encoding's <|endoftext|> (an error if it has none and a separator is asked for).
  std::optional<Rank> separator_id;
  // The separator by its token's name (e.g. "<|begin_of_text|>"); an error if the vocabulary lacks it.
  std::string separator_token;
  // tokenizer.json models: what was given to DatasetTokenizer::of (recorded in the manifest's options).
  bool add_special_tokens = false;
  // Tokens per shard: megatron / nanogpt close a shard after the document that reaches it (documents are
  // never split); llmc cuts exactly. 0 = one shard (llmc: 100,000,000 as fineweb.py).
  uint64_t shard_tokens = 0;
  // Encoding threads (0 = one per core), workers of the library's pool. Whatever this is, the calling thread
  // reads, decompresses and parses the documents and hands the ids to the shards (overlapping the encoding,
  // one thread included), a thread re-reads each input that is a regular file to hash it, and one hashes and
  // writes the shard blocks.
  unsigned threads = 1;
  // Bad JSON Lines records: false = the run fails naming file and line; true = skipped and counted.
  bool skip_bad = false;
  // Keep the complete shards of an unfinished run with the same inputs, tokenizer and options (false:
  // start over, replacing them).
  bool resume = true;
  // Called from the calling thread, at most every progress_interval seconds and once at the end.
  std::function<void(const TokenizeProgress&)> on_progress;
  double progress_interval = 0.5;
  // Text per batch handed to an encoding thread.
  size_t batch_bytes = size_t(1) << 20;
};

struct TokenizeSummary {
  uint64_t documents = 0;  // in the output
  uint64_t tokens = 0;     // in the output, separators included
  uint64_t shards = 0;
  uint64_t skipped = 0;            // bad records skipped (skip_bad)
  uint64_t repaired = 0;           // documents whose invalid UTF-8 was replaced
  uint64_t resumed_documents = 0;  // documents kept from the complete shards of an earlier run
  uint64_t input_bytes_read = 0;
  bool already_complete = false;  // the manifest said the output was complete: nothing was done
  double seconds = 0;
  std::vector<std::string> files;  // every output file, manifest last
};

// What the manifest records about an input; `sha256` may be given later (DatasetWriter::finish_input).
struct InputInfo {
  std::string path;
  uint64_t size = 0;
  std::string sha256;
};

// The sink: documents pushed in order (from the file readers, or from Python for Parquet) are encoded on
// `threads` threads and written into shards. Not thread-safe: one producer.
class DatasetWriter {
 public:
  // Reads PREFIX.manifest.json if there is one (resume). `tokenizer_name` and the encoding's tables go
  // into the manifest (name and sha256).
  static Result<DatasetWriter> open(const Encoding& encoding, std::string tokenizer_name, std::vector<InputInfo> inputs,
                                    TokenizeOptions options);
  static Result<DatasetWriter> open(DatasetTokenizer tokenizer, std::vector<InputInfo> inputs, TokenizeOptions options);
  DatasetWriter(DatasetWriter&&) noexcept;
  DatasetWriter& operator=(DatasetWriter&&) noexcept;
  ~DatasetWriter();  // without finish(): stops the threads, keeps what is complete (a later run resumes)

  // True if an earlier run finished this output (same inputs, tokenizer and options): nothing to do.
  bool already_complete() const;
  // Documents a resumed run already holds: the producer's first this-many documents are dropped by
  // add_document (they are still counted), so producers need not know about resume.
  uint64_t skip_documents() const;

  // One document, valid UTF-8 or not (invalid bytes are replaced as errors="replace" and counted;
  // `repaired` says the producer already replaced some, e.g. in a JSON line, to count it too).
  // Fails only when a shard could not be written (the message says why: disk full, ...).
  // `line` (1-based, 0 = unknown) locates the document in the current source (begin_source) for errors
  // that surface later, such as a custom pattern's regex giving up on it in an encoding thread.
  Status add_document(std::string_view text, bool repaired = false, uint64_t line = 0);
  // Names the documents that follow in error messages ("<name>:<line>: ..."). `file_line` maps the line
  // given to add_document to the file's line (a cluster unit's range does not start at line 1); it is only
  // called for an error.
  void begin_source(std::string name, std::function<uint64_t(uint64_t)> file_line = {});
  // A document already encoded, separators included (the ordered merge of units tokenized elsewhere:
  // their documents go through the same shard logic, so the shards are those of a single run).
  Status add_encoded_document(std::span<const Rank> ids);
  // A bad record the producer skipped (skip_bad), and documents repaired elsewhere; counted in the manifest.
  void add_skipped(uint64_t n = 1);
  void add_repaired(uint64_t n);
  // Raw bytes read so far across inputs (for progress), and an input's digest once it is read whole.
  void set_bytes_read(uint64_t bytes);
  void finish_input(size_t index, std::string sha256);
  // Writes the last shard and the final manifest.
  Result<TokenizeSummary> finish();

 private:
  struct Impl;
  explicit DatasetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The readers: every input (a path, or "-" for standard input) through its byte source and document
// splitter into a DatasetWriter. Errors name the file and the line (JSON Lines) or offset (compression).
Result<TokenizeSummary> tokenize_files(const Encoding& encoding, std::string tokenizer_name,
                                       std::span<const std::string> inputs, const TokenizeOptions& options);
Result<TokenizeSummary> tokenize_files(DatasetTokenizer tokenizer, std::span<const std::string> inputs,
                                       const TokenizeOptions& options);

// One input through its byte source and document splitter into `writer` (what tokenize_files does for
// each input; for producers that mix file inputs with their own, e.g. Parquet from Python). Returns the raw
// bytes read; records the input's sha256 as input `input_index`.
// With `begin` / `end`, only that byte range of an uncompressed file is read (a cluster unit: the plan
// puts both at line starts).
Result<uint64_t> read_documents(const std::string& path, size_t input_index, uint64_t bytes_before,
                                const TokenizeOptions& options, DatasetWriter& writer, uint64_t begin = 0,
                                uint64_t end = UINT64_MAX);

// The document format `kAuto` resolves to for this path.
DocumentFormat document_format_for(std::string_view path);

// sha256 of what defines the encoding's ids: pattern, ranks, special tokens (for manifests).
std::string encoding_sha256(const Encoding& encoding);

}  // namespace tokenmill
