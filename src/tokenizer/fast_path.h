// The ids-only path for the common shapes of BPE models:
// - byte-level (Llama 3, Qwen2/3, GPT-4o, DeepSeek, GPT-2 style): no normalizer or NFC, a pre-tokenizer that
//   splits without rewriting the text, and a BPE model over raw bytes;
// - SentencePiece-style (Gemma 3): a normalizer that turns spaces into "▁", a pre-tokenizer that splits only
//   at spaces (so, after that normalizer, not at all), and a BPE model over characters with byte fallback.
// Such a model runs as an Encoding (the token table and the piece cache in tiktoken's fused loop) whose
// piece encoder is the model's own merge list; when the split pattern is a built-in scanner family the
// Encoding's scanner splits too, so these models never run a regex. Either way no token string is built and
// no offset tracked when only ids are asked for.
//
// Exact by construction: the Encoding's token table holds only the tokens the model itself encodes as one
// token (every token with ignore_merges; otherwise those whose BPE run gives back just themselves), so a
// whole-token hit is what the model would give; every other piece goes to the model's merge list. The
// SentencePiece shape's pre-tokenizer leaves each segment whole, and BPE over a whole paragraph is slow and
// never repeats; so the fast path cuts it where no merge can join the two sides: before a "▁" whose
// preceding character ends no merge's left part whose right part starts with "▁" (in Gemma 3 only "▁" and
// ">" do). No symbol can then grow across the cut, so BPE of the parts is BPE of the whole (merges on one
// side never change the pairs on the other, and ties go leftmost on each side alike); "▁" is a token, so
// an unknown character's fused <unk> never reaches across either (a character that may vanish or become a
// token that joins: see MetaspaceCuts). That Encoding reads "▁" as ' ' (its token table is the vocabulary
// with "▁" written ' ', and its merge-list encoder writes it back): normalized text has no ' ', so the two
// forms map one to one, the text needs no copy unless it holds a literal "▁", and a piece is 2 bytes
// shorter per space, so more of them fit the piece cache's 22-byte keys. The added tokens, the normalizer
// and the post-processor are the Tokenizer's own stages.
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

namespace hf {
class BpeModel;
}

// The normalizers the fast path runs itself.
enum class FastNormalizer {
  kNone,
  kNfc,
  kSpacesToMetaspace,  // Replace(String " ", "▁")
};

// How the fast path cuts a normalized segment into the pieces its Encoding encodes.
enum class FastSplit {
  kScanner,        // the Encoding's built-in scanner
  kStage,          // the pre-tokenizer stage (a pattern no scanner knows)
  kMetaspaceCuts,  // SentencePiece shape: before "▁" where no merge can join (see the top of this file)
};

// Where FastSplit::kMetaspaceCuts may cut: before a "▁" whose preceding character no merge joins it with.
struct MetaspaceCuts {
  // The characters (UTF-8) a following "▁" may merge with: every character some token has right before a
  // "▁" (a merge's token is its two parts joined, so this holds every last character of a left part whose
  // right part starts with "▁").
  std::vector<std::string> joins;
  // A character the vocabulary lacks becomes byte-fallback tokens or the unknown token, or without an
  // unknown token may vanish; true when that may join (the last character of one of those is in `joins`,
  // or there is no unknown token): then no cut follows such a character.
  bool unknown_joins = false;
  // For each ASCII character: a cut after it is safe (the two rules above, answered once at load).
  bool ascii_cuts[128] = {};

  bool cuts_after(const hf::BpeModel& model, std::string_view character) const;
};

struct FastPath {
  Encoding encoding;
  // The post-processor's ids before and after the sequence, without [0] and with [1] special tokens.
  std::vector<uint32_t> prefix[2], suffix[2];
  FastNormalizer normalizer = FastNormalizer::kNone;
  FastSplit split = FastSplit::kScanner;
  MetaspaceCuts cuts;  // kMetaspaceCuts only
};

// What the fast path needs from the tokenizer.json fields `normalizer` and `pre_tokenizer`, read while the
// parsed document lives (the loader frees it before the fast path's tables are built, so the two never
// coexist in memory).
struct FastPathShape {
  std::optional<FastNormalizer> normalizer;  // none: a normalizer the fast path does not run
  // The scanner for the split patterns when they are a built-in scanner family, else none.
  std::optional<Pretokenizer> scanner;
  // The pre-tokenizer is absent or splits only at " " (String pattern, not inverted).
  bool splits_only_at_spaces = false;
};
FastPathShape fast_path_shape(const simdjson::dom::element& normalizer, const simdjson::dom::element& pre_tokenizer);

// The fast path for `t`, or null when its shape is not the one above.
std::unique_ptr<FastPath> make_fast_path(const Tokenizer::Impl& t, const FastPathShape& shape);

// encode_ids through the fast path: the same ids as Tokenizer::encode(text, options).ids. `text` is valid UTF-8.
// Fails only when memory runs out.
// `encode_special_tokens` is the Tokenizer's setting of that name.
Status encode_ids_fast(const Tokenizer::Impl& t, std::string_view text, bool add_special_tokens,
                       bool encode_special_tokens, std::vector<uint32_t>& out);
// The same before the post-processor: the ids of the added tokens and the model, as the stages give them.
Status encode_sequence_ids_fast(const Tokenizer::Impl& t, std::string_view text, bool encode_special_tokens,
                                std::vector<uint32_t>& out);

}  // namespace tokenmill
