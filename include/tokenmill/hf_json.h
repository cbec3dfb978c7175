// HF `tokenizers` output: a tokenizer.json for a byte-level BPE model (trained or loaded), which
// `tokenizers.Tokenizer.from_file` (0.23.3) loads and which encodes exactly as tokenmill does.
//
//   auto trained = tokenmill::train_bpe(counter, {.vocab_size = 32768, .special_tokens = {"<|bos|>"}});
//   tokenmill::write_hf_tokenizer_json(trained->model, trained->merges, "tokenizer.json");
//   // or, for a model read from a file (no merge list stored): merges derived from the ranks
//   auto model = tokenmill::BpeModel::load_model_file("en.model");
//   auto merges = tokenmill::derive_merges(model->ranks);
//   tokenmill::write_hf_tokenizer_json(*model, *merges, "tokenizer.json");
//
// What the file holds (GPT-2's byte-level scheme, as HF's own byte-level BPE tokenizers):
//   - model: BPE. vocab maps each token to its id, the token's bytes written as GPT-2's bytes_to_unicode
//     characters (printable Latin-1 bytes as themselves, the other 68 bytes as U+0100..U+0143); merges
//     in order as [left, right] pairs of such strings; ignore_merges = true (a piece that is a whole token
//     is that token, as in tiktoken and tokenmill); no unk token, no byte fallback, no dropout.
//   - pre_tokenizer: Sequence[Split(Regex <the model's pattern>, Isolated, invert false),
//     ByteLevel(add_prefix_space false, use_regex false)]: the model's own split pattern, then bytes ->
//     characters. (HF runs the pattern on Oniguruma, tokenmill on its scanners or PCRE2; for the GPT-4 and
//     nanochat patterns the pieces agree on everything tests/differential/test_train_hf.py throws at them.
//     Isolated keeps text that no alternative matches as a piece of its own, where tiktoken and tokenmill
//     drop it; the built-in patterns match every character, so this only matters for custom patterns
//     that leave gaps.)
//   - decoder: ByteLevel. normalizer and post_processor: none.
//   - added_tokens: the special tokens with their ids, special = true (HF matches them in any text, like
//     tokenmill's encode with allowed_special = all). Special ids that do not follow the ranks without a
//     gap (the OpenAI encodings') are vocabulary entries too, so HF keeps them.
//
// Which merges: HF BPE merges the adjacent pair with the lowest merge index; tiktoken/tokenmill merge the
// adjacent pair whose concatenation has the lowest rank. With one merge per token, listed in rank order,
// the two agree when each token's merge is the split that rank-BPE itself reaches. derive_merges computes
// exactly that: for rank r, tokenmill's BPE rule run on the token's bytes with only ranks below r ends in
// two parts (left, right) — the merge. For a vocabulary trained by BPE this is the training merge (the
// differential test checks it against the trainer's merge list).
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tokenmill/status.h"
#include "tokenmill/train.h"
#include "tokenmill/vocab.h"

namespace tokenmill {

class Encoding;

// GPT-2's bytes_to_unicode: the UTF-8 of the character byte `b` stands for in HF byte-level vocabularies.
std::string byte_level_char(uint8_t b);
// A token's bytes as a byte-level vocabulary string.
std::string byte_level_string(std::string_view bytes);

// One merge per token of two or more bytes, in rank order (the single bytes may have any ranks, as in the
// OpenAI encodings): running tokenmill's BPE rule (lowest rank first, leftmost on ties) on the token's bytes
// with only lower ranks ends in exactly two tokens. Fails (naming the rank) if a token cannot be reached
// that way (not a byte-level BPE vocabulary) or if a single byte is missing. Gaps in the ranks (p50k's
// 50256, a special token) are skipped.
Result<std::vector<std::pair<Rank, Rank>>> derive_merges(const Vocabulary& ranks);

// The tokenizer.json text. `merges` are (left id, right id) pairs, merge k producing the k-th token of two
// or more bytes in rank order (rank 256 + k in a trained model: a trainer's TrainResult::merges, or
// derive_merges). Fails if a merge does not concatenate to its token (or names a rank the vocabulary lacks),
// or a special token is not valid UTF-8 or collides with a vocabulary string.
Result<std::string> hf_tokenizer_json(const BpeModel& model, std::span<const std::pair<Rank, Rank>> merges);
// The tokenizer.json of an Encoding (its pattern, ranks and special tokens; derive_merges for the merges):
// the file Tokenizer::from_encoding loads, and HF's tokenizers loads with the same ids.
Result<std::string> encoding_tokenizer_json(const Encoding& encoding);
// The same, written atomically.
Status write_hf_tokenizer_json(const BpeModel& model, std::span<const std::pair<Rank, Rank>> merges,
                               const std::string& path);

}  // namespace tokenmill
