// Tokenizer: a Hugging Face tokenizer.json model, with exactly the ids, tokens and offsets of HF
// tokenizers 0.23.3.
//
//   auto tok = tokenmill::Tokenizer::from_file("tokenizer.json");
//   if (!tok.ok()) { std::cerr << tok.error() << "\n"; return 1; }   // names the file and the JSON path
//   auto enc = tok->encode("Hello world");                          // Result<Encoded>
//   // enc->ids, enc->tokens, enc->offsets (byte offsets into the text), enc->char_offsets(), ...
//   tokenmill::Tokenizer::EncodeOptions options;
//   options.add_special_tokens = false;                              // HF's default is true
//   auto plain = tok->encode("Hello world", options);
//   auto text = tok->decode(enc->ids);                               // Result<std::string>
//   auto both = tok->encode("Question?", "Answer.");                 // a pair: the template's pair form
//   auto cut = tok->with_truncation(tokenmill::TruncationParams{.max_length = 8});  // a new Tokenizer
//
// A Tokenizer is a pipeline of stages, each an interface with small implementations in its own folder,
// in HF's order:
//
//   added vocabulary (tokens matched on the raw text)   src/added_vocabulary/
//   normalizer, on each remaining segment               src/normalizers/
//   added vocabulary (tokens matched after normalizing) src/added_vocabulary/
//   pre-tokenizer: splits the segment into pieces       src/pre_tokenizers/
//   model: each piece to tokens (BPE with merges)       src/models/
//   post-processor: special tokens, offset trimming     src/processors/
//   and the decoder for the way back                    src/decoders/
//
// The loader (src/tokenizer/tokenizer_json.cc) accepts only components and fields it implements exactly;
// anything else (Unigram, WordPiece, dropout, a normalizer it lacks, ...) is an error naming the file and
// the JSON path, never a silently different id. An input that is not valid UTF-8 is an error too (HF's
// encode takes a Rust string, which is always valid UTF-8).
//
// A Tokenizer is immutable once built and cheap to copy (the stages are shared), so one instance serves any
// number of threads. Truncation and padding (HF's enable_truncation / enable_padding, or the tokenizer.json
// fields of the same names) are settings of the Tokenizer value, not of the shared stages: with_truncation and
// with_padding return a new Tokenizer, and the one they were called on is unchanged, so no thread ever sees a
// setting change under it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmill/pretokenize.h"
#include "tokenmill/status.h"

namespace tokenmill {

class Encoding;

// [begin, end) into a text.
using Offsets = std::pair<uint32_t, uint32_t>;

// One encoded sequence (HF's Encoding). All vectors have one entry per token.
struct Encoded {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<std::string> tokens;
  // Byte offsets into the original text (HF's Rust offsets); special tokens a template adds get (0, 0).
  std::vector<Offsets> offsets;
  std::vector<uint32_t> special_tokens_mask;
  std::vector<uint32_t> attention_mask;
  // The pre-token (word) each token comes from; nullopt for special tokens a template adds.
  std::vector<std::optional<uint32_t>> word_ids;
  // What truncation cut off (HF's overflowing): each part a whole encoding, post-processed and padded as
  // this one; with stride > 0 the parts overlap by `stride` tokens.
  std::vector<Encoded> overflowing;
  // Input sequence (0: the first, 1: the pair) -> the [begin, end) token range it fills, as HF keeps it:
  // set by the post-processor, cleared by truncation. Empty: every token belongs to sequence 0.
  std::map<uint32_t, std::pair<size_t, size_t>> sequence_ranges;

  size_t size() const { return ids.size(); }
  // HF's n_sequences and sequence_ids: the sequence of each token, nullopt for template special tokens
  // and padding.
  size_t n_sequences() const { return sequence_ranges.empty() ? 1 : sequence_ranges.size(); }
  std::vector<std::optional<uint32_t>> sequence_ids() const;
};

// HF's TruncationParams. max_length counts the tokens the post-processor adds (HF's added_tokens(is_pair))
// when special tokens are added; stride tokens are repeated at the start of each overflowing part.
struct TruncationParams {
  enum class Strategy { kLongestFirst, kOnlyFirst, kOnlySecond };
  enum class Direction { kRight, kLeft };
  size_t max_length = 512;
  size_t stride = 0;
  Strategy strategy = Strategy::kLongestFirst;
  Direction direction = Direction::kRight;
};

// HF's PaddingParams. length nullopt is HF's BatchLongest (to the longest encoding of the batch; a single
// encode pads only up to pad_to_multiple_of), a value is Fixed(length).
struct PaddingParams {
  enum class Direction { kRight, kLeft };
  std::optional<size_t> length;
  Direction direction = Direction::kRight;
  std::optional<size_t> pad_to_multiple_of;
  uint32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

// HF's byte -> character offset conversion over `text` (what HF's Python API returns): an offset at a
// character's first byte becomes that character's index; an end at the end of the text becomes the
// character count; an offset the conversion cannot map is kept as it is, as HF does.
std::vector<Offsets> char_offsets(std::string_view text, std::span<const Offsets> byte_offsets);

class Tokenizer {
 public:
  struct EncodeOptions {
    // Apply the post-processor's template (BOS/EOS, ...). HF's default is true.
    bool add_special_tokens = true;
    // Offsets in characters (HF's Python API) instead of bytes; converted before the post-processor, as HF.
    bool char_offsets = false;
    // HF's encode_fast (encode_batch_fast): ids and masks only; the model's tokens come out as "", their
    // offsets (0, 0), word ids nullopt and type ids 0 before the post-processor, exactly as HF leaves them.
    bool ids_and_masks_only = false;
  };
  // One input of encode_batch: a text, or a pair of texts; with `pretokenized`, words (and pair_words) instead.
  struct EncodeInput {
    std::string_view text;
    std::optional<std::string_view> pair;
    bool pretokenized = false;
    std::span<const std::string_view> words;
    std::optional<std::span<const std::string_view>> pair_words;
  };

  // `source_name` names the input in error messages (a file name).
  static Result<Tokenizer> from_string(std::string_view json, std::string_view source_name = "tokenizer.json");
  static Result<Tokenizer> from_file(const std::string& path);
  // An Encoding (an OpenAI encoding or a trained model) as a tokenizer.json model: its split pattern, then
  // byte-level BPE with the merges its ranks imply (derive_merges, hf_json.h), its special tokens as special
  // added tokens. Ids are the Encoding's encode(text, SpecialSet::all()); with add_special_tokens nothing is
  // added (no template). The same file HF loads: write_hf_tokenizer_json.
  static Result<Tokenizer> from_encoding(const Encoding& encoding);

  // Fails for text that is not valid UTF-8, and when memory runs out (kOutOfMemory; no call here throws).
  Result<Encoded> encode(std::string_view text, const EncodeOptions& options) const;
  Result<Encoded> encode(std::string_view text) const { return encode(text, EncodeOptions{}); }
  // A pair (HF's encode((text, pair))): each text encoded alone (the pair with type id 1), truncated together,
  // then the post-processor's pair form (TemplateProcessing's `pair`), then padded. Byte or character offsets
  // are into each text, not into their concatenation, as HF.
  Result<Encoded> encode(std::string_view text, std::string_view pair, const EncodeOptions& options) const;
  Result<Encoded> encode(std::string_view text, std::string_view pair) const {
    return encode(text, pair, EncodeOptions{});
  }
  // HF's is_pretokenized (transformers' is_split_into_words): each word is encoded alone (added tokens,
  // normalizer, pre-tokenizer, model), every token of word i gets word id i and offsets into that word, and
  // the words' tokens are concatenated; then truncation, the post-processor and padding as for a text.
  Result<Encoded> encode_words(std::span<const std::string_view> words, const EncodeOptions& options) const;
  Result<Encoded> encode_words(std::span<const std::string_view> words, std::span<const std::string_view> pair_words,
                               const EncodeOptions& options) const;
  // HF's encode_batch: each input encoded as above on up to `threads` threads of the library's thread pool
  // (0: one per hardware thread; the calling thread works too), then padded together (BatchLongest pads to
  // the longest). The result does not depend on the thread count; the first failing input's error is returned.
  Result<std::vector<Encoded>> encode_batch(std::span<const EncodeInput> inputs, const EncodeOptions& options,
                                            size_t threads = 0) const;
  // Ids only (the fast path for counting and the CLI); same ids as encode(text, options).ids.
  Result<std::vector<uint32_t>> encode_ids(std::string_view text, bool add_special_tokens = true) const;
  // How encode_ids runs (src/tokenizer/fast_path.h). Byte-level BPE models with no normalizer (or NFC) and a
  // pre-tokenizer that does not rewrite text encode ids on an Encoding's fused loop (token table, piece cache,
  // the model's merges); if their split pattern is a built-in scanner family (Llama 3's, Qwen2's, GPT-4o's,
  // GPT-2's) that scanner splits. Other models run the stages one by one, as encode does.
  struct IdsPath {
    bool fused = false;
    Pretokenizer::Kind splitter = Pretokenizer::Kind::kRegex;  // kRegex: the pre-tokenizer stage splits
  };
  IdsPath ids_path() const;

  // HF's decode: ids the tokenizer does not know are dropped, as HF does; skip_special_tokens drops the
  // special added tokens. The decoder's output (invalid UTF-8 becomes U+FFFD, as HF does). Fails only when
  // memory runs out.
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special_tokens = true) const;
  // HF's decode_batch: each sequence decoded as above, on up to `threads` threads (0: one per hardware thread).
  Result<std::vector<std::string>> decode_batch(std::span<const std::span<const uint32_t>> batch,
                                                bool skip_special_tokens = true, size_t threads = 0) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  // An added token with normalized=true gives its content as the normalizer makes it (so does decode), as HF.
  std::optional<std::string> id_to_token(uint32_t id) const;
  // HF's get_vocab_size(with_added_tokens): with them, the highest id + 1 over the model and added tokens.
  size_t vocab_size(bool with_added_tokens = true) const;
  // token -> id over the model's vocabulary and, if asked, the added tokens.
  std::vector<std::pair<std::string, uint32_t>> vocab(bool with_added_tokens = true) const;

  struct AddedToken {
    uint32_t id;
    std::string content;
    bool special, lstrip, rstrip, single_word, normalized;
  };
  const std::vector<AddedToken>& added_tokens() const;

  // The settings a tokenizer.json's `truncation` / `padding` fields give (nullopt: none), or a with_* call.
  const std::optional<TruncationParams>& truncation() const { return truncation_; }
  const std::optional<PaddingParams>& padding() const { return padding_; }
  // A copy of this Tokenizer with other settings (nullopt: none), as HF's with_truncation / with_padding.
  // with_truncation fails, as HF, when the stride is above max_length less the post-processor's tokens.
  Result<Tokenizer> with_truncation(std::optional<TruncationParams> truncation) const;
  Tokenizer with_padding(std::optional<PaddingParams> padding) const;
  // HF's encode_special_tokens (transformers' split_special_tokens): with true, the special added tokens in a
  // text are not extracted; their text is normalized, split and encoded as any other text. Non-special added
  // tokens are still extracted; the post-processor's template tokens are still added. Off by default, as HF.
  Tokenizer with_encode_special_tokens(bool encode_special_tokens) const;
  bool encode_special_tokens() const { return encode_special_tokens_; }
  // HF's post_processor.added_tokens(is_pair): the tokens encode adds around the text(s) with special tokens.
  size_t num_special_tokens_to_add(bool is_pair) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  // Loads from text it owns, since the parser works in place: from_string copies into it, from_file reads it.
  static Result<Tokenizer> from_json_text(std::string json, std::string_view source_name);
  Result<Encoded> encode_sequence(std::string_view text, uint32_t type_id, const EncodeOptions& options) const;
  Result<Encoded> encode_word_sequence(std::span<const std::string_view> words, uint32_t type_id,
                                       const EncodeOptions& options) const;
  Result<Encoded> encode_input(const EncodeInput& input, const EncodeOptions& options) const;
  Result<Encoded> post_process(Encoded encoding, std::optional<Encoded> pair, bool add_special_tokens) const;
  std::shared_ptr<const Impl> impl_;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
  bool encode_special_tokens_ = false;
};

// HF's DecodeStream: ids in one (or a few) at a time, text out as soon as it is complete. Each step decodes
// the ids since the last emitted prefix and returns what follows that prefix, or nothing while the text
// ends in U+FFFD (a character still cut short) or has not grown.
//
//   tokenmill::DecodeStream stream(/*skip_special_tokens=*/true);
//   for (uint32_t id : ids) if (auto piece = stream.step(tok, id); piece.ok() && *piece) std::cout << **piece;
class DecodeStream {
 public:
  explicit DecodeStream(bool skip_special_tokens = false, std::vector<uint32_t> ids = {})
      : skip_special_tokens_(skip_special_tokens), ids_(std::move(ids)) {}
  // Fails (naming the id) if the decoded text no longer starts with what was already emitted, as HF.
  Result<std::optional<std::string>> step(const Tokenizer& tokenizer, std::span<const uint32_t> ids);
  Result<std::optional<std::string>> step(const Tokenizer& tokenizer, uint32_t id) {
    return step(tokenizer, std::span<const uint32_t>(&id, 1));
  }

 private:
  bool skip_special_tokens_;
  std::vector<uint32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

}  // namespace tokenmill
