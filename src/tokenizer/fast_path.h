// The ids-only path for the common shape of byte-level models (Llama 3, Qwen2/3, GPT-4o, DeepSeek, GPT-2
// style): no normalizer or NFC, a pre-tokenizer that splits without rewriting the text, and a BPE model over
// raw bytes. Such a model runs as an Encoding (the token table and the piece cache in tiktoken's fused
// loop) whose piece encoder is the model's own merge list; when the split pattern is a built-in scanner
// family the Encoding's scanner splits too, so these models never run a regex. Either way no token string
// is built and no offset tracked when only ids are asked for.
//
// Exact by construction: the Encoding's token table holds only the tokens the model itself encodes as one
// token (every token with ignore_merges; otherwise those whose BPE run gives back just themselves), so a
// whole-token hit is what the model would give; every other piece goes to the model's merge list. The
// added tokens, the normalizer and the post-processor are the Tokenizer's own stages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/tokenizer.h"

namespace simdjson::dom {
class element;
}

namespace tokenmill {

struct FastPath {
  Encoding encoding;
  // The post-processor's ids before and after the sequence, without [0] and with [1] special tokens.
  std::vector<uint32_t> prefix[2], suffix[2];
  bool nfc = false;  // the normalizer is NFC (else none)
  // The split pattern is no scanner family: the pre-tokenizer stage splits, and the pieces go to the
  // Encoding's loop (encode_pieces) all the same.
  bool stage_splits = false;
};

// What the fast path needs from the tokenizer.json fields `normalizer` and `pre_tokenizer`, read while the
// parsed document lives (the loader frees it before the fast path's tables are built, so the two never
// coexist in memory).
struct FastPathShape {
  bool nfc = false;  // the normalizer is NFC
  // The scanner for the split patterns when they are a built-in scanner family, else none.
  std::optional<Pretokenizer> scanner;
};
FastPathShape fast_path_shape(const simdjson::dom::element& normalizer, const simdjson::dom::element& pre_tokenizer);

// The fast path for `t`, or null when its shape is not the one above.
std::unique_ptr<FastPath> make_fast_path(const Tokenizer::Impl& t, const FastPathShape& shape);

// encode_ids through the fast path: the same ids as Tokenizer::encode(text, options).ids. `text` is valid UTF-8.
// Fails only when memory runs out.
Status encode_ids_fast(const Tokenizer::Impl& t, std::string_view text, bool add_special_tokens,
                       std::vector<uint32_t>& out);
// The same before the post-processor: the ids of the added tokens and the model, as the stages give them.
Status encode_sequence_ids_fast(const Tokenizer::Impl& t, std::string_view text, std::vector<uint32_t>& out);

}  // namespace tokenmill
