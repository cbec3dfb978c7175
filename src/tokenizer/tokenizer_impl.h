// The stages a Tokenizer is made of (shared by the loader and the encoder).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "added_vocabulary/added_vocabulary.h"
#include "decoders/decoder.h"
#include "models/model.h"
#include "normalizers/normalizer.h"
#include "pre_tokenizers/pre_tokenizer.h"
#include "processors/post_processor.h"
#include "tokenizer/fast_path.h"
#include "tokenmill/tokenizer.h"

namespace tokenmill {

struct Tokenizer::Impl {
  std::vector<AddedToken> added;  // in tokenizer.json order
  // What id_to_token and decode give for each added token: a normalized token's content after the
  // normalizer (HF keeps that form for the way back), the content itself otherwise.
  std::vector<std::string> added_text;
  std::unordered_map<uint32_t, size_t> added_by_id;
  std::unordered_map<std::string, uint32_t> added_by_content;
  std::optional<hf::AddedMatcher> raw_matcher;         // normalized=false tokens
  std::optional<hf::AddedMatcher> normalized_matcher;  // normalized=true tokens, by normalized content
  std::unique_ptr<hf::Normalizer> normalizer;          // null: none
  std::unique_ptr<hf::PreTokenizer> pre_tokenizer;     // null: the segment is one piece
  std::optional<hf::BpeModel> model;
  std::unique_ptr<hf::PostProcessor> post_processor;  // null: none
  std::unique_ptr<hf::Decoder> decoder;               // null: tokens joined by spaces
  std::unique_ptr<FastPath> fast;                     // null: encode_ids runs the stages above
  // The tokenizer.json's truncation and padding fields: the settings a Tokenizer loaded from it starts with.
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;
};

// The loader: tokenizer.json text to stages. Errors name `source` and the JSON path. It takes the text by
// value so that it parses it in place (a file's text is as large as everything it is loaded into).
Result<std::shared_ptr<Tokenizer::Impl>> load_tokenizer_json(std::string json, std::string_view source);

}  // namespace tokenmill
