// Post-processor stage: what happens to an encoded sequence after the model (HF's post_processor):
// special tokens from a template, type ids, ByteLevel's offset trimming.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tokenmill/tokenizer.h"

namespace tokenmill::hf {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // `enc`'s offsets are in the unit the caller asked for (bytes or characters), as in HF.
  virtual void process(Encoded& enc, bool add_special_tokens) const = 0;
};

// ByteLevel's trim_offsets: offsets lose the leading and trailing spaces of their token (except the one
// add_prefix_space put before the first token). Without trim_offsets it changes nothing.
std::unique_ptr<PostProcessor> make_byte_level_processor(bool trim_offsets, bool add_prefix_space);

struct TemplatePiece {
  bool is_special;      // SpecialToken, else Sequence (A; pairs are not supported yet)
  std::string special;  // key into the special tokens
  uint32_t type_id;
};
struct TemplateSpecial {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};
// TemplateProcessing for single sequences: the template's special tokens around the sequence, whose
// type ids become the template's. Without add_special_tokens only the type ids are applied, as in HF.
std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplatePiece> single,
                                                       std::map<std::string, TemplateSpecial> specials);
std::unique_ptr<PostProcessor> make_sequence_processor(std::vector<std::unique_ptr<PostProcessor>> parts);

}  // namespace tokenmill::hf
