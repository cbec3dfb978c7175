// Post-processor stage: what happens to the encoded sequence(s) after the model (HF's post_processor):
// special tokens from a template, type ids, ByteLevel's offset trimming, and the pair's merge into one
// encoding. The encoding operations HF's processors are built on (merge, truncate, pad) are in
// processors/encoding_ops.h.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // HF's added_tokens(is_pair): how many tokens process_encodings adds with special tokens on; truncation
  // keeps room for them.
  virtual size_t added_tokens(bool is_pair) const = 0;
  // HF's process_encodings: one encoding per input sequence in, the parts to be concatenated out. Offsets
  // are in the unit the caller asked for (bytes or characters), as in HF.
  virtual void process_encodings(std::vector<Encoded>& encodings, bool add_special_tokens) const = 0;
  // A single sequence through post_process below, in place.
  void process(Encoded& enc, bool add_special_tokens) const;
};

// HF's PostProcessor::process (or, with no processor, default_process): each encoding gets its sequence id
// (and, with a processor, type id i), the processor runs, and the parts are merged into one encoding,
// overflowing parts combined as HF's Encoding::merge_with does.
Encoded post_process(const PostProcessor* processor, Encoded encoding, std::optional<Encoded> pair,
                     bool add_special_tokens);

// ByteLevel's trim_offsets: offsets lose the leading and trailing spaces of their token (except the one
// add_prefix_space put before the first token of each sequence). Without trim_offsets it changes nothing.
std::unique_ptr<PostProcessor> make_byte_level_processor(bool trim_offsets, bool add_prefix_space);

struct TemplatePiece {
  bool is_special;      // SpecialToken, else Sequence
  std::string special;  // key into the special tokens
  uint32_t type_id;
  uint32_t sequence = 0;  // Sequence A (0) or B (1)
};
struct TemplateSpecial {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};
// TemplateProcessing: the single (or, for a pair, the pair) template's special tokens around the
// sequences, whose type ids become the template's. Without add_special_tokens only the sequences are
// kept, with the template's type ids, as in HF.
std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplatePiece> single,
                                                       std::vector<TemplatePiece> pair,
                                                       std::map<std::string, TemplateSpecial> specials);
std::unique_ptr<PostProcessor> make_sequence_processor(std::vector<std::unique_ptr<PostProcessor>> parts);

}  // namespace tokenmill::hf
