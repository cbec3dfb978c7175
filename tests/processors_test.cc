// Post-processors (src/processors/post_processor.h). ByteLevel trimming ported from HF tokenizers'
// pre_tokenizers/byte_level.rs `processor_trims_offsets` test.
#include <gtest/gtest.h>

#include "processors/post_processor.h"

namespace tokenmill::hf {
namespace {

Encoded make(std::vector<std::string> tokens, std::vector<Offsets> offsets) {
  Encoded e;
  for (size_t i = 0; i < tokens.size(); ++i) {
    e.ids.push_back(uint32_t(i));
    e.type_ids.push_back(0);
    e.tokens.push_back(tokens[i]);
    e.offsets.push_back(offsets[i]);
    e.special_tokens_mask.push_back(0);
    e.attention_mask.push_back(1);
    e.word_ids.push_back(uint32_t(i));
  }
  return e;
}

TEST(ByteLevelProcessor, TrimsOffsets) {
  Encoded e = make({"Ġ", "ĠĠĠĠHelloĠĠ", "ĠĠHello", "HelloĠĠ", "ĠĠĠĠ"}, {{0, 1}, {0, 11}, {11, 18}, {18, 25}, {25, 29}});
  make_byte_level_processor(true, true)->process(e, false);  // HF's ByteLevel::default().trim_offsets(true)
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{0, 0}, {4, 9}, {13, 18}, {18, 23}, {29, 29}}));
  Encoded kept = make({"ĠHello"}, {{0, 6}});
  make_byte_level_processor(true, true)->process(kept, true);  // the prefix space it added stays
  EXPECT_EQ(kept.offsets, (std::vector<Offsets>{{0, 6}}));
  Encoded untouched = make({"ĠHello"}, {{0, 6}});
  make_byte_level_processor(false, false)->process(untouched, true);
  EXPECT_EQ(untouched.offsets, (std::vector<Offsets>{{0, 6}}));
}

TEST(TemplateProcessor, SingleSequence) {
  std::map<std::string, TemplateSpecial> specials{{"<s>", {{7}, {"<s>"}}}, {"</s>", {{8}, {"</s>"}}}};
  auto p = make_template_processor({{true, "<s>", 0}, {false, "", 1}, {true, "</s>", 1}}, {}, specials);
  Encoded e = make({"a", "b"}, {{0, 1}, {1, 2}});
  p->process(e, true);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{7, 0, 1, 8}));
  EXPECT_EQ(e.type_ids, (std::vector<uint32_t>{0, 1, 1, 1}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint32_t>{1, 0, 0, 1}));
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{0, 0}, {0, 1}, {1, 2}, {0, 0}}));
  EXPECT_EQ(e.word_ids[0], std::nullopt);
  EXPECT_EQ(e.tokens[3], "</s>");
  Encoded plain = make({"a"}, {{0, 1}});
  p->process(plain, false);  // no special tokens, but the template's type id
  EXPECT_EQ(plain.ids, (std::vector<uint32_t>{0}));
  EXPECT_EQ(plain.type_ids, (std::vector<uint32_t>{1}));
}

}  // namespace
}  // namespace tokenmill::hf
