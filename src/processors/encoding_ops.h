// HF's Encoding operations (tokenizers/src/tokenizer/encoding.rs, utils/truncation.rs, utils/padding.rs),
// ported one for one because their corner cases are the behaviour: how overflowing parts of a pair are
// combined, what a stride repeats, which sequence longest_first cuts, where left padding moves the ranges.
#pragma once

#include <span>
#include <string_view>

#include "tokenmill/status.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

// Sequence `id` covers all of `e` (HF's set_sequence_id).
void set_sequence_id(Encoded& e, uint32_t id);
// HF's merge_with: `pair` appended to `self`; the overflowing parts become every combination HF makes
// (each of self's with pair and with each of pair's, then self with each of pair's). growing_offsets
// shifts pair's offsets past self's last end.
void merge_with(Encoded& self, Encoded pair, bool growing_offsets);
Encoded merge(std::vector<Encoded> parts, bool growing_offsets);

// HF's Encoding::truncate: keeps max_len tokens (the first or, kLeft, the last), the rest become
// overflowing parts of max_len tokens that repeat `stride` tokens of the part before. Fails (HF panics)
// when stride >= max_len > 0.
Status truncate(Encoded& e, size_t max_len, size_t stride, TruncationParams::Direction direction);
// HF's truncate_encodings over one sequence or a pair, with `params.max_length` already less the
// post-processor's tokens. Fails as HF: only_second without a pair, or a sequence too short to cut.
Status truncate_encodings(Encoded& encoding, Encoded* pair, const TruncationParams& params);

// HF's Encoding::pad (the overflowing parts too) and pad_encodings (the length for a batch).
void pad(Encoded& e, size_t target_length, const PaddingParams& params);
void pad_encodings(std::span<Encoded> encodings, const PaddingParams& params);

}  // namespace tokenmill::hf
