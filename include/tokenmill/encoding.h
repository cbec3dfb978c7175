// Encoding: a pre-tokenizer, a vocabulary of mergeable ranks and a set of special tokens, with tiktoken's
// API and exactly tiktoken's ids.
//
//   auto enc = tokenmill::Encoding::load("cl100k_base");       // rank file from the cache, fetched once
//   if (!enc.ok()) { std::cerr << enc.error() << "\n"; return 1; }
//   std::vector<Rank> ids = *enc->encode_ordinary("hello world");           // [15339, 1917]
//   auto with_special = enc->encode("<|endoftext|>", SpecialSet::all());    // Result: ok, [100257]
//   auto refused = enc->encode("<|endoftext|>");                            // error names the token
//   auto text = enc->decode(ids);                                           // Result<std::string>
//
// An Encoding is immutable and cheap to copy (its tables are shared), so one instance serves any number of
// threads. Errors are values: calls that can fail return Result<T>.
//
// Memory: the tables (cl100k ~8 MB, o200k ~15 MB), plus, in each thread that encodes, a cache of BPE
// results for pieces that are not tokens. It starts at 1 MB and grows to 4 and then 16 MB only in a thread
// that keeps missing it, i.e. one that encodes megabytes of text; it is freed when the thread exits. All
// threads' caches together stay within piece_cache_budget() (64 MiB): a thread that would pass it keeps the
// cache it has (or, if it has none, encodes without one), so 64 threads use 64 MiB, not 1 GiB. The cache
// changes speed only, never ids.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmill/pretokenize.h"
#include "tokenmill/status.h"
#include "tokenmill/vocab.h"

namespace tokenmill {

// A set of special tokens, or "all" of them (tiktoken's allowed_special / disallowed_special).
struct SpecialSet {
  bool all_tokens = false;
  std::vector<std::string> tokens;

  static SpecialSet all() { return SpecialSet{true, {}}; }
  static SpecialSet none() { return SpecialSet{}; }
  static SpecialSet of(std::vector<std::string> tokens) { return SpecialSet{false, std::move(tokens)}; }
};

// How an Encoding encodes a piece that is not a whole token. Without one, tiktoken's rule: byte_pair_encode
// over the ranks (any adjacent pair that forms a token merges, lowest rank first). A tokenizer.json BPE
// model brings its own rule (only its listed merges, in their order, and ids that need not be ranks); its
// ranks then hold just the tokens the model encodes as themselves, with the model's ids, gaps allowed.
class PieceEncoder {
 public:
  virtual ~PieceEncoder() = default;
  // Appends the ids of `piece` (non-empty valid bytes, not a whole token of the ranks). Must be thread-safe.
  virtual void encode(std::string_view piece, std::vector<Rank>& out) const = 0;
};

// What an encoding is made of; how a user defines their own (tiktoken's Encoding constructor).
struct EncodingSpec {
  std::string name;
  std::string pattern;
  Vocabulary ranks;
  std::vector<std::pair<std::string, Rank>> special_tokens;
  // If set, checked like tiktoken's explicit_n_vocab: ranks + special tokens == n_vocab, max id == n-1.
  std::optional<uint32_t> explicit_n_vocab;
  // Null: tiktoken's rule. Set: the ranks may have gaps, and need not hold every single byte.
  std::shared_ptr<const PieceEncoder> piece_encoder;
  // Set: splits the text instead of `pattern` (e.g. a Pretokenizer::create_split_sequence scanner).
  std::optional<Pretokenizer> pretokenizer;
};

struct LoadOptions {
  // Where rank files live; empty = TOKENMILL_CACHE_DIR, else $XDG_CACHE_HOME/tokenmill, else ~/.cache/tokenmill.
  std::string cache_dir;
  // Like tiktoken: fetch (and verify) a missing rank file on first use. Off: a missing file is an error.
  bool fetch_if_missing = true;
};

class Encoding {
 public:
  // A built-in encoding: gpt2, r50k_base, p50k_base, p50k_edit, cl100k_base, o200k_base, o200k_harmony.
  static Result<Encoding> load(std::string_view name, const LoadOptions& options = {});
  static Result<Encoding> create(EncodingSpec spec);
  static std::vector<std::string> builtin_names();
  // tiktoken's model -> encoding table (exact names and prefixes such as "gpt-4o-").
  static std::optional<std::string> encoding_name_for_model(std::string_view model);

  // Text -> ids, ignoring special tokens (their text is encoded as ordinary text). Any bytes are accepted:
  // valid UTF-8 is split by the pattern; input that is not valid UTF-8 follows tiktoken's _encode_bytes
  // (the valid prefix is split, the rest joins the last piece), so decode_bytes always round-trips.
  // Built-in encodings never fail. A custom pattern can: PCRE2 gives up on some matches (backtracking
  // limits, e.g. `(a+)+$` on a long run of `a`), and that is an error rather than a shorter output.
  Result<std::vector<Rank>> encode_ordinary(std::string_view text) const;
  // Appends to `out` (on error, out holds the ids before the failing piece).
  Status encode_ordinary(std::string_view text, std::vector<Rank>& out) const;

  // tiktoken's encode: text of a special token in `allowed` becomes that token; text of one in
  // `disallowed` (default: all not allowed) is an error naming the token; others are ordinary text.
  Result<std::vector<Rank>> encode(std::string_view text, const SpecialSet& allowed = SpecialSet::none(),
                                   const SpecialSet& disallowed = SpecialSet::all()) const;

  // The ids of pieces a caller has split itself (with a pre-tokenizer of its own), each encoded as
  // encode_ordinary encodes one of its pieces: token lookup, piece cache, BPE, in the same pipelined loop.
  // Appends to `out`; empty pieces give nothing. Each piece's memory must be readable up to
  // `readable_end` (at least its own end: the lookups read a few bytes ahead where they may). Fails only
  // when memory runs out.
  Status encode_pieces(std::span<const std::string_view> pieces, const char* readable_end,
                       std::vector<Rank>& out) const;

  // encode_ordinary of many documents in one pass, as a dataset is tokenized: document i is
  // text[ends[i-1], ends[i]) (ends ascending, within text). Appends to `out`, for each document in order,
  // `begin_token` (unless kNoRank), its ids as encode_ordinary gives them, and `end_token` (unless kNoRank),
  // then appends out.size() to `token_ends`. The same ids as one encode_ordinary per document, but the
  // lookups of one document's last pieces overlap the next one's splitting instead of waiting at each end.
  // On an error (a custom pattern's regex gave up), token_ends ends with the last complete document.
  Status encode_ordinary_documents(std::string_view text, std::span<const size_t> ends, std::vector<Rank>& out,
                                   std::vector<size_t>& token_ends, Rank begin_token = kNoRank,
                                   Rank end_token = kNoRank) const;

  // tiktoken's _encode_bytes, for byte strings that may not be valid UTF-8.
  Result<std::vector<Rank>> encode_bytes(std::string_view bytes) const;

  // Batch on up to `threads` threads (0 = hardware concurrency) of the library's one thread pool (the
  // calling thread works too; the pool's workers start on first use and serve every call after); results
  // are identical to calling encode_ordinary on each text.
  Result<std::vector<std::vector<Rank>>> encode_ordinary_batch(std::span<const std::string_view> texts,
                                                               unsigned threads = 0) const;
  Result<std::vector<std::vector<Rank>>> encode_batch(std::span<const std::string_view> texts,
                                                      const SpecialSet& allowed = SpecialSet::none(),
                                                      const SpecialSet& disallowed = SpecialSet::all(),
                                                      unsigned threads = 0) const;

  // encode_ordinary of one text on up to `threads` threads (0 = hardware concurrency): the same ids. The text
  // is cut only where the pattern is proven to start a piece whatever follows (Pretokenizer::find_cut: a
  // line break between a printable character and a letter, every built-in pattern), into parts of at least
  // 1 MiB. A custom pattern, text that is not valid UTF-8, or text with no such cut runs on one thread.
  Result<std::vector<Rank>> encode_ordinary_parallel(std::string_view text, unsigned threads = 0) const;

  // Number of tokens encode_ordinary would return, without materialising them.
  Result<size_t> count(std::string_view text) const;

  Result<std::string> decode_bytes(std::span<const Rank> ids) const;
  // decode_bytes of each id list, on the library's thread pool; an error names the list and the id.
  Result<std::vector<std::string>> decode_bytes_batch(std::span<const std::vector<Rank>> batch,
                                                      unsigned threads = 0) const;
  // UTF-8 with invalid sequences replaced by U+FFFD, exactly as Python's bytes.decode("utf-8", "replace").
  Result<std::string> decode(std::span<const Rank> ids) const;
  Result<std::string> decode_single_token_bytes(Rank id) const;

  // Token <-> id. encode_single_token also finds special tokens; it is an error if the bytes are no token.
  Result<Rank> encode_single_token(std::string_view token_bytes) const;
  bool is_special_token(Rank id) const;

  const std::string& name() const;
  const std::string& pattern() const;
  const Pretokenizer& pretokenizer() const;
  const Vocabulary& ranks() const;
  // tiktoken's n_vocab: max token id + 1.
  uint32_t n_vocab() const;
  uint32_t max_token_value() const { return n_vocab() - 1; }
  // <|endoftext|>'s id, if this encoding has it.
  std::optional<Rank> eot_token() const;
  const std::vector<std::pair<std::string, Rank>>& special_tokens() const;

 private:
  struct Impl;
  explicit Encoding(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  static Result<Encoding> create_tables(EncodingSpec spec);  // create() less the out-of-memory guard
  std::shared_ptr<const Impl> impl_;
};

// The process-wide bound on all threads' piece caches, and the bytes they hold now. The budget can be lowered
// (tests do, to reach the bound with little text); it applies to allocations made after the call.
size_t piece_cache_budget();
void set_piece_cache_budget(size_t bytes);
size_t piece_cache_bytes_in_use();

// UTF-8 decoding with replacement, as Python's bytes.decode("utf-8", errors="replace").
std::string utf8_replace_invalid(std::string_view bytes);

}  // namespace tokenmill
