// Post-processors (src/processors/post_processor.h) and HF's Encoding operations (encoding_ops.h). ByteLevel
// trimming ported from HF tokenizers' pre_tokenizers/byte_level.rs `processor_trims_offsets` test; the
// truncation table from utils/truncation.rs `truncate_encodings_longest_first` / `_empty`; the stride,
// left-direction and padding cases from tokenizer/encoding.rs' tests and utils/padding.rs `pad_to_multiple`.
#include <gtest/gtest.h>

#include "processors/encoding_ops.h"
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

Encoded sized(size_t n) {
  std::vector<std::string> tokens(n, "t");
  std::vector<Offsets> offsets;
  for (size_t i = 0; i < n; ++i) offsets.push_back({uint32_t(i), uint32_t(i + 1)});
  return make(tokens, offsets);
}

TEST(Truncation, LongestFirstTableFromHf) {
  TruncationParams p;
  p.max_length = 7;
  // (n1, n2) -> kept (n1, n2): HF's truncate_encodings_longest_first with empty=0, short=2, medium=4, long=8.
  const size_t cases[][4] = {{0, 0, 0, 0}, {0, 2, 0, 2}, {0, 4, 0, 4}, {0, 8, 0, 7}, {2, 0, 2, 0}, {2, 2, 2, 2},
                             {2, 4, 2, 4}, {2, 8, 2, 5}, {4, 0, 4, 0}, {4, 2, 4, 2}, {4, 4, 3, 4}, {4, 8, 3, 4},
                             {8, 0, 7, 0}, {8, 2, 5, 2}, {8, 4, 4, 3}, {8, 8, 3, 4}};
  for (const auto& c : cases) {
    Encoded a = sized(c[0]), b = sized(c[1]);
    ASSERT_TRUE(truncate_encodings(a, &b, p).ok());
    EXPECT_EQ(a.size(), c[2]) << c[0] << "/" << c[1];
    EXPECT_EQ(b.size(), c[3]) << c[0] << "/" << c[1];
  }
  p.max_length = 0;  // truncate_encodings_empty: both emptied
  Encoded a = sized(4), b = sized(4);
  ASSERT_TRUE(truncate_encodings(a, &b, p).ok());
  EXPECT_EQ(a.size() + b.size(), 0u);
  ASSERT_EQ(a.overflowing.size(), 1u);  // the whole encoding becomes the one overflowing part
  EXPECT_EQ(a.overflowing[0].size(), 4u);
}

TEST(Truncation, StrideAndDirection) {
  // encoding.rs: 5 tokens, max 2, stride 1 -> [0,1] then overflowing [1,2] [2,3] [3,4].
  Encoded e = sized(5);
  ASSERT_TRUE(truncate(e, 2, 1, TruncationParams::Direction::kRight).ok());
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{0, 1}));
  ASSERT_EQ(e.overflowing.size(), 3u);
  EXPECT_EQ(e.overflowing[2].ids, (std::vector<uint32_t>{3, 4}));
  // Left keeps the end: [3,4] then [2,3] [1,2] [0,1].
  Encoded l = sized(5);
  ASSERT_TRUE(truncate(l, 2, 1, TruncationParams::Direction::kLeft).ok());
  EXPECT_EQ(l.ids, (std::vector<uint32_t>{3, 4}));
  ASSERT_EQ(l.overflowing.size(), 3u);
  EXPECT_EQ(l.overflowing[2].ids, (std::vector<uint32_t>{0, 1}));
  Encoded bad = sized(5);  // HF panics: stride must be below the length kept
  EXPECT_FALSE(truncate(bad, 2, 2, TruncationParams::Direction::kRight).ok());
  TruncationParams only_second;
  only_second.max_length = 3;
  only_second.strategy = TruncationParams::Strategy::kOnlySecond;
  Encoded single = sized(5);
  EXPECT_FALSE(truncate_encodings(single, nullptr, only_second).ok());  // SecondSequenceNotProvided
  Encoded a = sized(4), b = sized(1);
  EXPECT_FALSE(truncate_encodings(a, &b, only_second).ok());  // SequenceTooShort
}

TEST(Padding, ToMultipleAndLeft) {
  PaddingParams p;
  p.length = 7;
  p.pad_to_multiple_of = 8;  // padding.rs pad_to_multiple: Fixed(7) to a multiple of 8 -> 8
  std::vector<Encoded> batch{sized(5), sized(3)};
  pad_encodings(batch, p);
  EXPECT_EQ(batch[0].size(), 8u);
  EXPECT_EQ(batch[1].size(), 8u);
  p.length.reset();  // BatchLongest 5 -> 8
  std::vector<Encoded> longest{sized(5), sized(3)};
  pad_encodings(longest, p);
  EXPECT_EQ(longest[1].size(), 8u);
  // Left padding moves the sequence ranges with the tokens; pads are specials with attention 0.
  PaddingParams left;
  left.direction = PaddingParams::Direction::kLeft;
  left.pad_id = 9;
  Encoded e = sized(2);
  set_sequence_id(e, 0);
  pad(e, 4, left);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{9, 9, 0, 1}));
  EXPECT_EQ(e.attention_mask, (std::vector<uint32_t>{0, 0, 1, 1}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint32_t>{1, 1, 0, 0}));
  EXPECT_EQ(e.sequence_ids(), (std::vector<std::optional<uint32_t>>{std::nullopt, std::nullopt, 0, 0}));
}

TEST(TemplateProcessor, PairWithOverflowing) {
  // BERT's template, as HF's template.rs `template_processing`: [CLS] A [SEP] B:1 [SEP]:1.
  std::map<std::string, TemplateSpecial> specials{{"[CLS]", {{1}, {"[CLS]"}}}, {"[SEP]", {{0}, {"[SEP]"}}}};
  auto p = make_template_processor(
      {{true, "[CLS]", 0}, {false, "", 0, 0}, {true, "[SEP]", 0}},
      {{true, "[CLS]", 0}, {false, "", 0, 0}, {true, "[SEP]", 0}, {false, "", 1, 1}, {true, "[SEP]", 1}}, specials);
  EXPECT_EQ(p->added_tokens(false), 2u);
  EXPECT_EQ(p->added_tokens(true), 3u);
  Encoded a = make({"Hello", "there"}, {{0, 5}, {6, 11}});
  Encoded b = make({"pair"}, {{0, 4}});
  Encoded out = post_process(p.get(), a, b, true);
  EXPECT_EQ(out.ids, (std::vector<uint32_t>{1, 0, 1, 0, 0, 0}));
  EXPECT_EQ(out.type_ids, (std::vector<uint32_t>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(out.sequence_ids(),
            (std::vector<std::optional<uint32_t>>{std::nullopt, 0, 0, std::nullopt, 1, std::nullopt}));
  EXPECT_EQ(out.n_sequences(), 2u);
  // A truncated first sequence: each overflowing part is combined with the pair, template around both.
  Encoded longer = sized(3);
  ASSERT_TRUE(truncate(longer, 2, 0, TruncationParams::Direction::kRight).ok());
  Encoded merged = post_process(p.get(), longer, b, true);
  ASSERT_EQ(merged.overflowing.size(), 1u);
  EXPECT_EQ(merged.overflowing[0].ids, (std::vector<uint32_t>{1, 2, 0, 0, 0}));
  EXPECT_EQ(merged.overflowing[0].special_tokens_mask, (std::vector<uint32_t>{1, 0, 1, 0, 1}));
  // No processor: the pair is concatenated, offsets unchanged, sequence ids 0 then 1.
  Encoded plain = post_process(nullptr, a, b, true);
  EXPECT_EQ(plain.offsets, (std::vector<Offsets>{{0, 5}, {6, 11}, {0, 4}}));
  EXPECT_EQ(plain.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 0, 1}));
}

}  // namespace
}  // namespace tokenmill::hf
