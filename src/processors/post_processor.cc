#include "processors/post_processor.h"

#include <algorithm>

#include "processors/encoding_ops.h"
#include "util/utf8.h"

namespace tokenmill::hf {

namespace {

using util::code_points;
using util::is_white_space;

// HF's process_offsets, over one sequence's encoding: `i == 0` is that sequence's first token.
void trim_offsets(Encoded& enc, bool add_prefix_space) {
  for (size_t i = 0; i < enc.size(); ++i) {
    auto cps = code_points(enc.tokens[i]);
    auto is_space = [](uint32_t c) { return c == 0x120 || is_white_space(c); };  // U+0120 is the byte ' '
    uint32_t leading = 0, trailing = 0;
    while (leading < cps.size() && is_space(cps[leading])) ++leading;
    while (trailing < cps.size() && is_space(cps[cps.size() - 1 - trailing])) ++trailing;
    Offsets& o = enc.offsets[i];
    if (leading > 0) {
      bool is_first = i == 0 || o.first == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      o.first = std::min(o.first + leading, o.second);
    }
    if (trailing > 0 && o.second >= trailing) o.second = std::max(o.second - trailing, o.first);
  }
}

class ByteLevelProcessor final : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  void process_encodings(std::vector<Encoded>& encodings, bool) const override {
    if (trim_offsets_) {
      for (Encoded& e : encodings) {
        trim_offsets(e, add_prefix_space_);
        for (Encoded& o : e.overflowing) trim_offsets(o, add_prefix_space_);
      }
    }
    for (size_t i = 0; i < encodings.size(); ++i) set_sequence_id(encodings[i], uint32_t(i));
  }

 private:
  bool trim_offsets_, add_prefix_space_;
};

class TemplateProcessor final : public PostProcessor {
 public:
  TemplateProcessor(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair,
                    std::map<std::string, TemplateSpecial> specials)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)) {
    added_single_ = count(single_);
    added_pair_ = count(pair_);
  }
  size_t added_tokens(bool is_pair) const override { return is_pair ? added_pair_ : added_single_; }
  void process_encodings(std::vector<Encoded>& encodings, bool add_special_tokens) const override {
    const std::vector<TemplatePiece>& pieces = encodings.size() == 2 ? pair_ : single_;
    std::vector<Encoded> out;
    for (const TemplatePiece& p : pieces) {
      if (!p.is_special) {
        // The loader lets the single template name only A, so the sequence is always there.
        Encoded& e = encodings[p.sequence];
        e.type_ids.assign(e.size(), p.type_id);  // not the overflowing parts' type ids, as HF
        set_sequence_id(e, p.sequence);
        out.push_back(e);
      } else if (add_special_tokens) {
        const TemplateSpecial& s = specials_.at(p.special);  // the loader checked every key
        Encoded e;
        e.ids = s.ids;
        e.type_ids.assign(s.ids.size(), p.type_id);
        e.tokens = s.tokens;
        e.word_ids.assign(s.ids.size(), std::nullopt);
        e.offsets.assign(s.ids.size(), Offsets{0, 0});
        e.special_tokens_mask.assign(s.ids.size(), 1);
        e.attention_mask.assign(s.ids.size(), 1);
        out.push_back(std::move(e));
      }
    }
    encodings = std::move(out);
  }

 private:
  size_t count(const std::vector<TemplatePiece>& pieces) const {
    size_t n = 0;
    for (const TemplatePiece& p : pieces) {
      if (p.is_special) n += specials_.at(p.special).ids.size();
    }
    return n;
  }
  std::vector<TemplatePiece> single_, pair_;
  std::map<std::string, TemplateSpecial> specials_;
  size_t added_single_ = 0, added_pair_ = 0;
};

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (const auto& p : parts_) n += p->added_tokens(is_pair);
    return n;
  }
  void process_encodings(std::vector<Encoded>& encodings, bool add_special_tokens) const override {
    for (const auto& p : parts_) p->process_encodings(encodings, add_special_tokens);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

}  // namespace

Encoded post_process(const PostProcessor* processor, Encoded encoding, std::optional<Encoded> pair,
                     bool add_special_tokens) {
  std::vector<Encoded> encodings;
  encodings.push_back(std::move(encoding));
  if (pair) encodings.push_back(std::move(*pair));
  if (processor == nullptr) {
    // HF's default_process: a single sequence as it is; a pair merged, each with its sequence id.
    if (encodings.size() == 1) return std::move(encodings[0]);
    for (size_t i = 0; i < encodings.size(); ++i) set_sequence_id(encodings[i], uint32_t(i));
    return merge(std::move(encodings), false);
  }
  for (size_t i = 0; i < encodings.size(); ++i) {
    Encoded& e = encodings[i];
    set_sequence_id(e, uint32_t(i));
    for (Encoded& o : e.overflowing) set_sequence_id(o, uint32_t(i));
    e.type_ids.assign(e.size(), uint32_t(i));
  }
  processor->process_encodings(encodings, add_special_tokens);
  return merge(std::move(encodings), false);
}

void PostProcessor::process(Encoded& enc, bool add_special_tokens) const {
  enc = post_process(this, std::move(enc), std::nullopt, add_special_tokens);
}

std::unique_ptr<PostProcessor> make_byte_level_processor(bool trim_offsets, bool add_prefix_space) {
  return std::make_unique<ByteLevelProcessor>(trim_offsets, add_prefix_space);
}
std::unique_ptr<PostProcessor> make_template_processor(std::vector<TemplatePiece> single,
                                                       std::vector<TemplatePiece> pair,
                                                       std::map<std::string, TemplateSpecial> specials) {
  return std::make_unique<TemplateProcessor>(std::move(single), std::move(pair), std::move(specials));
}
std::unique_ptr<PostProcessor> make_sequence_processor(std::vector<std::unique_ptr<PostProcessor>> parts) {
  return std::make_unique<SequenceProcessor>(std::move(parts));
}

}  // namespace tokenmill::hf
