#include <simdjson.h>

#include <algorithm>

#include "processors/encoding_ops.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenmill/encoding.h"
#include "tokenmill/file_io.h"
#include "tokenmill/hf_json.h"
#include "util/no_throw.h"
#include "util/thread_pool.h"

namespace tokenmill {

std::vector<Offsets> char_offsets(std::string_view text, std::span<const Offsets> byte_offsets) {
  // byte -> index of the character holding it, as HF's BytesToCharOffsetConverter.
  std::vector<uint32_t> map(text.size());
  uint32_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && i > 0) ++n;
    map[i] = n;
  }
  std::vector<Offsets> out;
  out.reserve(byte_offsets.size());
  for (Offsets o : byte_offsets) {
    if (o.first < text.size() && o.second < text.size()) {
      out.push_back({map[o.first], map[o.second]});
    } else if (o.first < text.size()) {
      // An end past the last byte: one past the character of the byte before it, or (HF's fallback
      // when that byte is past the text too) start + 2.
      uint32_t last = o.second >= 1 && o.second - 1 < text.size() ? map[o.second - 1] : map[o.first] + 1;
      out.push_back({map[o.first], last + 1});
    } else {
      out.push_back(o);  // HF keeps offsets it cannot convert
    }
  }
  return out;
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl)
    : impl_(std::move(impl)), truncation_(impl_->truncation), padding_(impl_->padding) {}

// The callers catch: each names its source in the error.
Result<Tokenizer> Tokenizer::from_json_text(std::string json, std::string_view source_name) {
  auto impl = load_tokenizer_json(std::move(json), source_name);
  if (!impl.ok()) return impl.status();
  return Tokenizer(std::move(impl).value());
}

Result<Tokenizer> Tokenizer::from_string(std::string_view json, std::string_view source_name) try {
  return from_json_text(std::string(json), source_name);
} catch (...) {
  return util::exception_status([&] { return "loading the tokenizer " + std::string(source_name); });
}

Result<Tokenizer> Tokenizer::from_encoding(const Encoding& encoding) try {
  auto json = encoding_tokenizer_json(encoding);
  if (!json.ok()) return json.status();
  return from_json_text(std::move(json).value(), encoding.name());
} catch (...) {
  return util::exception_status([&] { return "making a tokenizer of the encoding " + encoding.name(); });
}

Result<Tokenizer> Tokenizer::from_file(const std::string& path) try {
  // Bounded like a rank file, so a wrong path such as /dev/zero is an error, not an endless read.
  auto json = read_file(path, kMaxRankFileBytes, "tokenizer file");
  if (!json.ok()) return json.status();
  return from_json_text(std::move(json).value(), path);
} catch (...) {
  return util::exception_status([&] { return "loading the tokenizer " + path; });
}

namespace {

// HF's encode takes a Rust string, which is always valid UTF-8.
Status check_utf8(std::string_view text) {
  if (simdjson::validate_utf8(text.data(), text.size())) return Status();
  return Status(ErrorCode::kInvalidArgument, "encode: the text is not valid UTF-8");
}

void push_token(Encoded& enc, uint32_t id, std::string token, Offsets offsets, uint32_t word) {
  enc.ids.push_back(id);
  enc.type_ids.push_back(0);  // the sequence's type id is set once it is complete
  enc.tokens.push_back(std::move(token));
  enc.offsets.push_back(offsets);
  enc.special_tokens_mask.push_back(0);
  enc.attention_mask.push_back(1);
  enc.word_ids.push_back(word);
}

}  // namespace

// One sequence through the stages up to the model (HF's encode_single_sequence), without post-processing.
Result<Encoded> Tokenizer::encode_sequence(std::string_view text, uint32_t type_id,
                                           const EncodeOptions& options) const {
  if (Status s = check_utf8(text); !s.ok()) return s;
  const Impl& t = *impl_;
  if (options.ids_and_masks_only && t.fast) {
    // HF's OffsetType::None keeps only what the ids give (see below): the fused loop's ids are enough.
    Encoded enc;
    if (Status s = encode_sequence_ids_fast(t, text, encode_special_tokens_, enc.ids); !s.ok()) return s;
    const size_t n = enc.ids.size();
    enc.type_ids.assign(n, 0);
    enc.tokens.assign(n, std::string());
    enc.offsets.assign(n, Offsets{0, 0});
    enc.special_tokens_mask.assign(n, 0);
    enc.attention_mask.assign(n, 1);
    enc.word_ids.assign(n, std::nullopt);
    return enc;
  }
  Encoded enc;
  uint32_t word = 0;
  std::vector<hf::AddedSegment> raw, norm;
  std::vector<Offsets> splits;
  std::vector<hf::ModelToken> model_tokens;
  if (t.raw_matcher) {
    t.raw_matcher->split(text, raw, encode_special_tokens_);
  } else {
    raw.assign(1, {std::nullopt, {0, uint32_t(text.size())}});
  }
  for (const hf::AddedSegment& seg : raw) {
    if (seg.range.first == seg.range.second) continue;  // HF drops empty splits
    if (seg.id) {
      // The token's text is what matched, stripped whitespace included, as in HF.
      push_token(enc, *seg.id, std::string(text.substr(seg.range.first, seg.range.second - seg.range.first)), seg.range,
                 word++);
      continue;
    }
    hf::NormalizedString ns = hf::NormalizedString::identity(
        text.substr(seg.range.first, seg.range.second - seg.range.first), seg.range.first);
    if (t.normalizer) t.normalizer->normalize(ns);
    if (t.normalized_matcher) {
      t.normalized_matcher->split(ns.normalized, norm, encode_special_tokens_);
    } else {
      norm.assign(1, {std::nullopt, {0, uint32_t(ns.normalized.size())}});
    }
    for (const hf::AddedSegment& s2 : norm) {
      if (s2.range.first == s2.range.second) continue;
      if (s2.id) {
        push_token(enc, *s2.id, ns.normalized.substr(s2.range.first, s2.range.second - s2.range.first),
                   ns.original_offsets(s2.range.first, s2.range.second), word++);
        continue;
      }
      // A pre-tokenizer that rewrites text gets this segment alone, so the next segments keep their ranges.
      hf::NormalizedString edited;
      const bool edits = t.pre_tokenizer && t.pre_tokenizer->edits_text();
      if (edits) {
        edited = ns.slice(s2.range);
        splits.assign(1, {0, uint32_t(edited.normalized.size())});
      } else {
        splits.assign(1, s2.range);
      }
      hf::NormalizedString& piece = edits ? edited : ns;
      if (t.pre_tokenizer) {
        Status st = t.pre_tokenizer->pre_tokenize(piece, splits);
        if (!st.ok()) return st;
      }
      for (Offsets sp : splits) {
        if (sp.first == sp.second) continue;
        model_tokens.clear();
        t.model->tokenize(std::string_view(piece.normalized).substr(sp.first, sp.second - sp.first), model_tokens);
        for (const hf::ModelToken& mt : model_tokens) {
          const std::optional<std::string_view> tok = t.model->id_to_token(mt.id);
          // Byte fallback over a prefix or suffix counts more bytes than the piece has; HF cannot map such
          // offsets and keeps them as they are, relative to the piece.
          Offsets o = mt.end <= sp.second - sp.first ? piece.original_offsets(sp.first + mt.begin, sp.first + mt.end)
                                                     : Offsets{mt.begin, mt.end};
          push_token(enc, mt.id, tok ? std::string(*tok) : std::string(), o, word);
        }
        ++word;
      }
    }
  }
  if (options.ids_and_masks_only) {
    // HF's OffsetType::None: only ids survive the model, and the type id is 0 whatever the sequence.
    std::fill(enc.tokens.begin(), enc.tokens.end(), std::string());
    std::fill(enc.offsets.begin(), enc.offsets.end(), Offsets{0, 0});
    std::fill(enc.word_ids.begin(), enc.word_ids.end(), std::nullopt);
    return enc;
  }
  enc.type_ids.assign(enc.size(), type_id);
  if (options.char_offsets) enc.offsets = char_offsets(text, enc.offsets);
  return enc;
}

// HF's post_process: truncation (keeping room for the post-processor's tokens), the post-processor, then
// padding of this one encoding (a batch is padded again, together).
Result<Encoded> Tokenizer::post_process(Encoded encoding, std::optional<Encoded> pair, bool add_special_tokens) const {
  const hf::PostProcessor* processor = impl_->post_processor.get();
  if (truncation_) {
    TruncationParams params = *truncation_;
    // Unsigned, as HF's usize: a max_length below the added tokens wraps around and so truncates nothing.
    if (add_special_tokens && processor) params.max_length -= processor->added_tokens(pair.has_value());
    Status s = hf::truncate_encodings(encoding, pair ? &*pair : nullptr, params);
    if (!s.ok()) return s;
  }
  Encoded out = hf::post_process(processor, std::move(encoding), std::move(pair), add_special_tokens);
  if (padding_) hf::pad_encodings(std::span<Encoded>(&out, 1), *padding_);
  return out;
}

Result<Encoded> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const try {
  auto enc = encode_sequence(text, 0, options);
  if (!enc.ok()) return enc.status();
  return post_process(std::move(enc).value(), std::nullopt, options.add_special_tokens);
} catch (...) {
  return util::exception_status([&] { return "encoding " + std::to_string(text.size()) + " bytes of text"; });
}

Result<Encoded> Tokenizer::encode(std::string_view text, std::string_view pair, const EncodeOptions& options) const
    try {
  auto first = encode_sequence(text, 0, options);
  if (!first.ok()) return first.status();
  auto second = encode_sequence(pair, 1, options);
  if (!second.ok()) return second.status();
  return post_process(std::move(first).value(), std::move(second).value(), options.add_special_tokens);
} catch (...) {
  return util::exception_status([&] {
    return "encoding a pair of " + std::to_string(text.size()) + " and " + std::to_string(pair.size()) + " bytes";
  });
}

// HF's encode_single_sequence for InputSequence::PreTokenized: one encode per word with word_idx = Some(i),
// then Encoding::merge without growing offsets.
Result<Encoded> Tokenizer::encode_word_sequence(std::span<const std::string_view> words, uint32_t type_id,
                                                const EncodeOptions& options) const {
  std::vector<Encoded> parts;
  parts.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    auto enc = encode_sequence(words[i], type_id, options);
    if (!enc.ok()) return Status(enc.status().code(), "word " + std::to_string(i) + ": " + enc.status().message());
    // OffsetType::None (ids_and_masks_only) leaves every word id empty, pre-tokenized or not.
    if (!options.ids_and_masks_only) std::fill(enc->word_ids.begin(), enc->word_ids.end(), uint32_t(i));
    parts.push_back(std::move(enc).value());
  }
  return hf::merge(std::move(parts), false);
}

Result<Encoded> Tokenizer::encode_words(std::span<const std::string_view> words, const EncodeOptions& options) const
    try {
  auto enc = encode_word_sequence(words, 0, options);
  if (!enc.ok()) return enc.status();
  return post_process(std::move(enc).value(), std::nullopt, options.add_special_tokens);
} catch (...) {
  return util::exception_status([&] { return "encoding " + std::to_string(words.size()) + " words"; });
}

Result<Encoded> Tokenizer::encode_words(std::span<const std::string_view> words,
                                        std::span<const std::string_view> pair_words,
                                        const EncodeOptions& options) const try {
  auto first = encode_word_sequence(words, 0, options);
  if (!first.ok()) return first.status();
  auto second = encode_word_sequence(pair_words, 1, options);
  if (!second.ok()) return Status(second.status().code(), "pair: " + second.status().message());
  return post_process(std::move(first).value(), std::move(second).value(), options.add_special_tokens);
} catch (...) {
  return util::exception_status([&] {
    return "encoding a pair of " + std::to_string(words.size()) + " and " + std::to_string(pair_words.size()) +
           " words";
  });
}

Result<Encoded> Tokenizer::encode_input(const EncodeInput& in, const EncodeOptions& options) const {
  if (in.pretokenized)
    return in.pair_words ? encode_words(in.words, *in.pair_words, options) : encode_words(in.words, options);
  return in.pair ? encode(in.text, *in.pair, options) : encode(in.text, options);
}

Result<std::vector<Encoded>> Tokenizer::encode_batch(std::span<const EncodeInput> inputs, const EncodeOptions& options,
                                                     size_t threads) const try {
  // Each input is done by exactly one thread, so the result does not depend on the thread count.
  auto encoded = util::parallel_results<Encoded>(inputs.size(), unsigned(std::min<size_t>(threads, util::kMaxWorkers)),
                                                 "input", [&](size_t i) { return encode_input(inputs[i], options); });
  if (!encoded.ok()) return encoded.status();
  std::vector<Encoded> out = std::move(encoded).value();
  if (padding_) hf::pad_encodings(out, *padding_);
  return out;
} catch (...) {
  return util::exception_status([&] { return "encoding a batch of " + std::to_string(inputs.size()) + " inputs"; });
}

Result<Tokenizer> Tokenizer::with_truncation(std::optional<TruncationParams> truncation) const {
  if (truncation) {
    // HF's check, with its usize arithmetic (a max_length below the added tokens wraps and passes).
    size_t added = num_special_tokens_to_add(false);
    size_t effective = truncation->max_length - added;
    if (effective < truncation->stride) {
      return Status(ErrorCode::kInvalidArgument,
                    "truncation: stride " + std::to_string(truncation->stride) +
                        " is greater than or equal to the effective max length " + std::to_string(effective) +
                        " (= " + std::to_string(truncation->max_length) + " max_length - " + std::to_string(added) +
                        " added special tokens)");
    }
  }
  Tokenizer out = *this;
  out.truncation_ = std::move(truncation);
  return out;
}

Tokenizer Tokenizer::with_padding(std::optional<PaddingParams> padding) const {
  Tokenizer out = *this;
  out.padding_ = std::move(padding);
  return out;
}

Tokenizer Tokenizer::with_encode_special_tokens(bool encode_special_tokens) const {
  Tokenizer out = *this;
  out.encode_special_tokens_ = encode_special_tokens;
  return out;
}

size_t Tokenizer::num_special_tokens_to_add(bool is_pair) const {
  return impl_->post_processor ? impl_->post_processor->added_tokens(is_pair) : 0;
}

Result<std::vector<uint32_t>> Tokenizer::encode_ids(std::string_view text, bool add_special_tokens) const try {
  // Truncation and padding cut and fill around the template's tokens, which only the full encode keeps apart.
  if (truncation_ || padding_) {
    EncodeOptions options;
    options.add_special_tokens = add_special_tokens;
    options.ids_and_masks_only = true;
    auto enc = encode(text, options);
    if (!enc.ok()) return enc.status();
    return std::move(enc->ids);
  }
  if (impl_->fast) {
    if (Status s = check_utf8(text); !s.ok()) return s;
    std::vector<uint32_t> ids;
    if (Status s = encode_ids_fast(*impl_, text, add_special_tokens, encode_special_tokens_, ids); !s.ok()) return s;
    return ids;
  }
  EncodeOptions options;
  options.add_special_tokens = add_special_tokens;
  auto enc = encode(text, options);
  if (!enc.ok()) return enc.status();
  return std::move(enc->ids);
} catch (...) {
  return util::exception_status([&] { return "encoding " + std::to_string(text.size()) + " bytes of text"; });
}

Tokenizer::IdsPath Tokenizer::ids_path() const {
  IdsPath path;
  path.fused = impl_->fast != nullptr;
  if (path.fused && impl_->fast->split == FastSplit::kScanner)
    path.splitter = impl_->fast->encoding.pretokenizer().kind();
  return path;
}

Result<std::string> Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const try {
  const Impl& t = *impl_;
  std::vector<std::string> tokens;
  for (uint32_t id : ids) {
    auto a = t.added_by_id.find(id);
    const std::optional<std::string_view> tok =
        a != t.added_by_id.end() ? std::string_view(t.added_text[a->second]) : t.model->id_to_token(id);
    if (!tok) continue;  // HF drops ids it does not know
    // HF skips by text: a token whose text is a special added token's content (a model token's, or a
    // normalized added token's whose normalized form is another's content); not a special token whose
    // normalizer changed its text.
    if (skip_special_tokens) {
      auto c = t.added_by_content.find(std::string(*tok));
      if (c != t.added_by_content.end() && t.added[t.added_by_id.at(c->second)].special) continue;
    }
    tokens.emplace_back(*tok);
  }
  if (!t.decoder) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  t.decoder->decode_chain(tokens);
  std::string out;
  for (const auto& s : tokens) out += s;
  return out;
} catch (...) {
  return util::exception_status([&] { return "decoding " + std::to_string(ids.size()) + " ids"; });
}

Result<std::vector<std::string>> Tokenizer::decode_batch(std::span<const std::span<const uint32_t>> batch,
                                                         bool skip_special_tokens, size_t threads) const try {
  return util::parallel_results<std::string>(batch.size(), unsigned(std::min<size_t>(threads, util::kMaxWorkers)),
                                             "sequence",
                                             [&](size_t i) { return decode(batch[i], skip_special_tokens); });
} catch (...) {
  return util::exception_status([&] { return "decoding a batch of " + std::to_string(batch.size()) + " sequences"; });
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto a = impl_->added_by_content.find(std::string(token));
  if (a != impl_->added_by_content.end()) return a->second;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  auto a = impl_->added_by_id.find(id);
  if (a != impl_->added_by_id.end()) return impl_->added_text[a->second];
  if (auto t = impl_->model->id_to_token(id)) return std::string(*t);
  return std::nullopt;
}

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  size_t n = impl_->model->vocab_size();
  if (!with_added_tokens) return n;
  // HF counts the entries of get_vocab(true): the model's tokens and the added tokens it lacks, by text.
  for (const AddedToken& a : impl_->added) {
    if (!impl_->model->token_to_id(a.content)) ++n;
  }
  return n;
}

std::vector<std::pair<std::string, uint32_t>> Tokenizer::vocab(bool with_added_tokens) const {
  std::vector<std::pair<std::string, uint32_t>> out;
  out.reserve(impl_->model->vocab_size());
  impl_->model->vocab().for_each([&](std::string_view token, uint32_t id) { out.emplace_back(token, id); });
  if (with_added_tokens) {
    for (const AddedToken& a : impl_->added) {
      if (!impl_->model->token_to_id(a.content)) out.push_back({a.content, a.id});
    }
  }
  return out;
}

const std::vector<Tokenizer::AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }

}  // namespace tokenmill
