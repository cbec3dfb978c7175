#include "processors/encoding_ops.h"

#include <algorithm>
#include <string>

namespace tokenmill {

std::vector<std::optional<uint32_t>> Encoded::sequence_ids() const {
  std::vector<std::optional<uint32_t>> out(size());
  for (uint32_t seq = 0; seq < n_sequences(); ++seq) {
    auto r = sequence_ranges.find(seq);
    // HF's sequence_range: a sequence without a range covers everything.
    std::pair<size_t, size_t> range = r != sequence_ranges.end() ? r->second : std::pair<size_t, size_t>{0, size()};
    for (size_t i = range.first; i < range.second && i < out.size(); ++i) out[i] = seq;
  }
  return out;
}

namespace hf {

namespace {

// Tokens [begin, end) of `e`, without its overflowing parts and sequence ranges (as HF's truncate builds them).
Encoded slice(const Encoded& e, size_t begin, size_t end) {
  Encoded out;
  auto cut = [&](const auto& v) { return std::decay_t<decltype(v)>(v.begin() + begin, v.begin() + end); };
  out.ids = cut(e.ids);
  out.type_ids = cut(e.type_ids);
  out.tokens = cut(e.tokens);
  out.word_ids = cut(e.word_ids);
  out.offsets = cut(e.offsets);
  out.special_tokens_mask = cut(e.special_tokens_mask);
  out.attention_mask = cut(e.attention_mask);
  return out;
}

template <class T>
void prepend(std::vector<T>& v, size_t n, const T& value) {
  v.insert(v.begin(), n, value);
}

}  // namespace

void set_sequence_id(Encoded& e, uint32_t id) { e.sequence_ranges[id] = {0, e.size()}; }

void merge_with(Encoded& self, Encoded pair, bool growing_offsets) {
  std::vector<Encoded> overflowings;
  for (const Encoded& self_o : self.overflowing) {
    Encoded n = self_o;
    merge_with(n, pair, growing_offsets);
    overflowings.push_back(std::move(n));
    for (const Encoded& other_o : pair.overflowing) {
      Encoded m = self_o;
      merge_with(m, other_o, growing_offsets);
      overflowings.push_back(std::move(m));
    }
  }
  for (const Encoded& other_o : pair.overflowing) {
    Encoded n = self;
    merge_with(n, other_o, growing_offsets);
    overflowings.push_back(std::move(n));
  }
  const size_t original_len = self.size();
  for (const auto& [id, range] : pair.sequence_ranges) {
    self.sequence_ranges[id] = {original_len + range.first, original_len + range.second};
  }
  const uint32_t start = growing_offsets && !self.offsets.empty() ? self.offsets.back().second : 0;
  self.ids.insert(self.ids.end(), pair.ids.begin(), pair.ids.end());
  self.type_ids.insert(self.type_ids.end(), pair.type_ids.begin(), pair.type_ids.end());
  for (auto& t : pair.tokens) self.tokens.push_back(std::move(t));
  self.word_ids.insert(self.word_ids.end(), pair.word_ids.begin(), pair.word_ids.end());
  for (Offsets o : pair.offsets) self.offsets.push_back({o.first + start, o.second + start});
  self.special_tokens_mask.insert(self.special_tokens_mask.end(), pair.special_tokens_mask.begin(),
                                  pair.special_tokens_mask.end());
  self.attention_mask.insert(self.attention_mask.end(), pair.attention_mask.begin(), pair.attention_mask.end());
  self.overflowing = std::move(overflowings);
}

Encoded merge(std::vector<Encoded> parts, bool growing_offsets) {
  Encoded out;
  for (Encoded& p : parts) merge_with(out, std::move(p), growing_offsets);
  return out;
}

Status truncate(Encoded& e, size_t max_len, size_t stride, TruncationParams::Direction direction) {
  const size_t n = e.size();
  if (max_len >= n) return Status();
  if (max_len == 0) {
    Encoded whole = std::move(e);
    e = Encoded();
    e.overflowing.push_back(std::move(whole));
    return Status();
  }
  if (stride >= max_len) {
    return Status(ErrorCode::kInvalidArgument, "truncation: stride " + std::to_string(stride) +
                                                   " must be less than the length to keep, " + std::to_string(max_len) +
                                                   " (max_length less the post-processor's special tokens)");
  }
  const size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  bool end = false;
  if (direction == TruncationParams::Direction::kRight) {
    for (size_t start = 0; start < n && !end; start += step) {
      size_t stop = std::min(start + max_len, n);
      end = stop == n;
      parts.push_back({start, stop});
    }
  } else {
    // HF walks stop positions n, n - step, ... down to 1.
    for (size_t last = n; last-- > 0;) {
      if ((n - 1 - last) % step != 0) continue;
      size_t stop = last + 1;
      size_t start = stop > max_len ? stop - max_len : 0;
      if (start < stop && !end) {
        end = start == 0;
        parts.push_back({start, stop});
      }
    }
  }
  Encoded kept = slice(e, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) kept.overflowing.push_back(slice(e, parts[i].first, parts[i].second));
  e = std::move(kept);
  return Status();
}

Status truncate_encodings(Encoded& encoding, Encoded* pair, const TruncationParams& params) {
  if (params.max_length == 0) {
    Status s = truncate(encoding, 0, params.stride, params.direction);
    if (s.ok() && pair) s = truncate(*pair, 0, params.stride, params.direction);
    return s;
  }
  const size_t total = encoding.size() + (pair ? pair->size() : 0);
  if (total <= params.max_length) return Status();
  const size_t to_remove = total - params.max_length;
  using Strategy = TruncationParams::Strategy;
  if (params.strategy == Strategy::kLongestFirst) {
    if (!pair) return truncate(encoding, total - to_remove, params.stride, params.direction);
    size_t n1 = encoding.size(), n2 = pair->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > params.max_length ? n1 : std::max(n1, params.max_length - n1);
    if (n1 + n2 > params.max_length) {
      n1 = params.max_length / 2;
      n2 = n1 + params.max_length % 2;
    }
    if (swap) std::swap(n1, n2);
    Status s = truncate(encoding, n1, params.stride, params.direction);
    if (s.ok()) s = truncate(*pair, n2, params.stride, params.direction);
    return s;
  }
  Encoded* target = &encoding;
  if (params.strategy == Strategy::kOnlySecond) {
    if (!pair) return Status(ErrorCode::kInvalidArgument, "Truncation error: Second sequence not provided");
    target = pair;
  }
  const size_t len = target->size();
  if (len <= to_remove) {
    return Status(ErrorCode::kInvalidArgument,
                  "Truncation error: Sequence to truncate too short to respect the provided max_length");
  }
  return truncate(*target, len - to_remove, params.stride, params.direction);
}

void pad(Encoded& e, size_t target_length, const PaddingParams& params) {
  for (Encoded& o : e.overflowing) pad(o, target_length, params);
  if (e.size() >= target_length) return;
  const size_t n = target_length - e.size();
  if (params.direction == PaddingParams::Direction::kLeft) {
    prepend(e.ids, n, params.pad_id);
    prepend(e.type_ids, n, params.pad_type_id);
    prepend(e.tokens, n, params.pad_token);
    prepend(e.word_ids, n, std::optional<uint32_t>());
    prepend(e.attention_mask, n, 0u);
    prepend(e.special_tokens_mask, n, 1u);
    prepend(e.offsets, n, Offsets{0, 0});
    for (auto& [id, range] : e.sequence_ranges) range = {range.first + n, range.second + n};
  } else {
    e.ids.insert(e.ids.end(), n, params.pad_id);
    e.type_ids.insert(e.type_ids.end(), n, params.pad_type_id);
    e.tokens.insert(e.tokens.end(), n, params.pad_token);
    e.word_ids.insert(e.word_ids.end(), n, std::nullopt);
    e.attention_mask.insert(e.attention_mask.end(), n, 0u);
    e.special_tokens_mask.insert(e.special_tokens_mask.end(), n, 1u);
    e.offsets.insert(e.offsets.end(), n, Offsets{0, 0});
  }
}

void pad_encodings(std::span<Encoded> encodings, const PaddingParams& params) {
  if (encodings.empty()) return;
  size_t length = 0;
  if (params.length) {
    length = *params.length;
  } else {
    for (const Encoded& e : encodings) length = std::max(length, e.size());
  }
  if (params.pad_to_multiple_of && *params.pad_to_multiple_of > 0 && length % *params.pad_to_multiple_of > 0) {
    length += *params.pad_to_multiple_of - length % *params.pad_to_multiple_of;
  }
  for (Encoded& e : encodings) pad(e, length, params);
}

}  // namespace hf
}  // namespace tokenmill
