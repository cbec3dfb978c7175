#include "processors/post_processor.h"

#include <algorithm>

#include "util/utf8.h"

namespace tokenmill::hf {

namespace {

using util::code_points;
using util::is_white_space;

class ByteLevelProcessor final : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  void process(Encoded& enc, bool) const override {
    if (!trim_offsets_) return;
    for (size_t i = 0; i < enc.size(); ++i) {
      auto cps = code_points(enc.tokens[i]);
      auto is_space = [](uint32_t c) { return c == 0x120 || is_white_space(c); };  // U+0120 is the byte ' '
      uint32_t leading = 0, trailing = 0;
      while (leading < cps.size() && is_space(cps[leading])) ++leading;
      while (trailing < cps.size() && is_space(cps[cps.size() - 1 - trailing])) ++trailing;
      Offsets& o = enc.offsets[i];
      if (leading > 0) {
        bool is_first = i == 0 || o.first == 0;
        if (is_first && add_prefix_space_ && leading == 1) leading = 0;
        o.first = std::min(o.first + leading, o.second);
      }
      if (trailing > 0 && o.second >= trailing) o.second = std::max(o.second - trailing, o.first);
    }
  }

 private:
  bool trim_offsets_, add_prefix_space_;
};

class TemplateProcessor final : public PostProcessor {
 public:
  TemplateProcessor(std::vector<TemplatePiece> single, std::map<std::string, TemplateSpecial> specials)
      : single_(std::move(single)), specials_(std::move(specials)) {}
  void process(Encoded& enc, bool add_special_tokens) const override {
    Encoded out;
    for (const TemplatePiece& p : single_) {
      if (!p.is_special) {
        for (size_t i = 0; i < enc.size(); ++i) {
          out.ids.push_back(enc.ids[i]);
          out.type_ids.push_back(p.type_id);
          out.tokens.push_back(enc.tokens[i]);
          out.offsets.push_back(enc.offsets[i]);
          out.special_tokens_mask.push_back(enc.special_tokens_mask[i]);
          out.attention_mask.push_back(enc.attention_mask[i]);
          out.word_ids.push_back(enc.word_ids[i]);
        }
      } else if (add_special_tokens) {
        const TemplateSpecial& s = specials_.at(p.special);  // the loader checked every key
        for (size_t k = 0; k < s.ids.size(); ++k) {
          out.ids.push_back(s.ids[k]);
          out.type_ids.push_back(p.type_id);
          out.tokens.push_back(s.tokens[k]);
          out.offsets.push_back({0, 0});
          out.special_tokens_mask.push_back(1);
          out.attention_mask.push_back(1);
          out.word_ids.push_back(std::nullopt);
        }
      }
    }
    enc = std::move(out);
  }

 private:
  std::vector<TemplatePiece> single_;
  std::map<std::string, TemplateSpecial> specials_;
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(Encoded& enc, bool add_special_tokens) const override {
    for (const auto& p : parts_) p->process(enc, add_special_tokens);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

}  // namespace

std::unique_ptr<PostProcessor> make_byte_level_processor(bool trim_offsets, bool add_prefix_space) {
  return std::make_unique<ByteLevelProcessor>(trim_offsets, add_prefix_space);
}
std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplatePiece> single,
                                                       std::map<std::string, TemplateSpecial> specials) {
  return std::make_unique<TemplateProcessor>(std::move(single), std::move(specials));
}
std::unique_ptr<PostProcessor> make_sequence_processor(std::vector<std::unique_ptr<PostProcessor>> parts) {
  return std::make_unique<SequenceProcessor>(std::move(parts));
}

}  // namespace tokenmill::hf
