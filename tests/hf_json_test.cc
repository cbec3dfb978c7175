#include "tokenmill/hf_json.h"

#include <gtest/gtest.h>

#include <random>

namespace tokenmill {
namespace {

TEST(ByteLevel, Gpt2Table) {
  // Values from openai/gpt-2 encoder.py bytes_to_unicode.
  EXPECT_EQ(byte_level_char('a'), "a");
  EXPECT_EQ(byte_level_char('!'), "!");
  EXPECT_EQ(byte_level_char(0), "\u0100");
  EXPECT_EQ(byte_level_char(' '), "\u0120");   // Ġ
  EXPECT_EQ(byte_level_char('\n'), "\u010a");  // Ċ
  EXPECT_EQ(byte_level_char(0x7F), "\u0121");
  EXPECT_EQ(byte_level_char(0xA0), "\u0142");
  EXPECT_EQ(byte_level_char(0xAD), "\u0143");
  EXPECT_EQ(byte_level_char(0xA1), "\u00a1");
  EXPECT_EQ(byte_level_char(0xFF), "\u00ff");
  EXPECT_EQ(byte_level_string(" hi\n"), "\u0120hi\u010a");
}

Result<TrainResult> train_on(const std::vector<std::string>& docs, uint64_t vocab, std::vector<std::string> specials = {}) {
  auto counter = ChunkCounter::create(kGpt4Pattern);
  EXPECT_TRUE(counter.ok());
  for (const auto& d : docs) EXPECT_TRUE(counter->add_document(d).ok());
  TrainOptions o;
  o.vocab_size = vocab;
  o.special_tokens = std::move(specials);
  return train_bpe(*counter, o);
}

// A loaded model carries no merge list; the derived one must be the trainer's.
TEST(DeriveMerges, EqualsTrainingMerges) {
  std::mt19937 rng(7);
  const std::string alphabet = "aabbbcdeeeef  \n'.,0123";
  std::vector<std::string> docs;
  for (int i = 0; i < 3000; ++i) {
    std::string d;
    for (int n = int(rng() % 60); n > 0; --n) d += alphabet[rng() % alphabet.size()];
    docs.push_back(d);
  }
  docs.push_back(std::string(100000, 'a'));
  docs.push_back("hello hello hello world worlds");
  auto trained = train_on(docs, 1500);
  ASSERT_TRUE(trained.ok()) << trained.error();
  auto derived = derive_merges(trained->model.ranks);
  ASSERT_TRUE(derived.ok()) << derived.error();
  EXPECT_EQ(*derived, trained->merges);
}

TEST(HfJson, Contents) {
  auto trained = train_on({"ab ab ab \"q\" \\x\n", "abab"}, 262, {"<|bos|>", "<|eos|>"});
  ASSERT_TRUE(trained.ok()) << trained.error();
  auto json = hf_tokenizer_json(trained->model, trained->merges);
  ASSERT_TRUE(json.ok()) << json.error();
  EXPECT_NE(json->find(R"("\"": 34)"), std::string::npos);
  EXPECT_NE(json->find(R"("\\": 92)"), std::string::npos);
  const std::string n = std::to_string(trained->model.ranks.size());
  EXPECT_NE(json->find("{\"id\": " + n + R"(, "content": "<|bos|>")"), std::string::npos);
  EXPECT_NE(json->find(R"(["a", "b"])"), std::string::npos);
  EXPECT_NE(json->find(R"("ignore_merges": true)"), std::string::npos);
}

// Each refusal must come from the rule it names: the message says which merge, id or token broke it.
void expect_refused(const Result<std::string>& r, const std::string& says) {
  ASSERT_FALSE(r.ok()) << "accepted; expected refusal: " << says;
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.error();
  EXPECT_NE(r.error().find(says), std::string::npos) << r.error();
}

TEST(HfJson, Errors) {
  auto trained = train_on({"ab ab ab cd cd"}, 260);
  ASSERT_TRUE(trained.ok());
  const size_t n = trained->model.ranks.size();
  auto merges = trained->merges;
  merges.pop_back();
  expect_refused(
      hf_tokenizer_json(trained->model, merges),
      std::to_string(n) + " ranks need " + std::to_string(n - 256) + " merges, got " + std::to_string(n - 257));
  merges = trained->merges;
  std::swap(merges[0], merges[1]);
  expect_refused(hf_tokenizer_json(trained->model, merges), "merge 0 (");
  BpeModel model = trained->model;
  model.special_tokens = {{"\xff", Rank(n)}};
  expect_refused(hf_tokenizer_json(model, trained->merges),
                 "special token with id " + std::to_string(n) + " is not valid UTF-8");
  // An id after a gap (cl100k's <|endoftext|>) is a vocabulary entry too, so HF keeps it (HF itself
  // loading such a file: tests/python/test_hf.py); two specials cannot share an id.
  model.special_tokens = {{"<|x|>", Rank(n + 1)}};
  auto gap = hf_tokenizer_json(model, trained->merges);
  ASSERT_TRUE(gap.ok()) << gap.error();
  EXPECT_NE(gap->find("\"<|x|>\": " + std::to_string(n + 1)), std::string::npos);
  model.special_tokens = {{"<|x|>", Rank(n)}, {"<|z|>", Rank(n)}};
  expect_refused(hf_tokenizer_json(model, trained->merges), "have the same id " + std::to_string(n));
  model.special_tokens = {{"<|y|>", Rank(n - 1)}};
  expect_refused(hf_tokenizer_json(model, trained->merges),
                 "special token with id " + std::to_string(n - 1) + " overlaps the ranks");
  model.special_tokens = {{"ab", Rank(n)}};
  expect_refused(hf_tokenizer_json(model, trained->merges), "special token 'ab' is also a vocabulary string");
  // A merge naming a rank the vocabulary lacks (after a gap) is refused, not read.
  {
    std::vector<std::pair<std::string, Rank>> gapped;
    for (Rank r = 0; r < 256; ++r) gapped.emplace_back(std::string(1, char(r)), r);
    gapped.emplace_back("ab", 300);
    BpeModel g{trained->model.pattern, *Vocabulary::from_ranks(gapped), {}};
    const std::pair<Rank, Rank> missing[] = {{257, 98}};
    expect_refused(hf_tokenizer_json(g, missing), "merge 0 (257, 98) does not make rank 300");
  }
  model = trained->model;
  model.pattern = "\xc3(";
  expect_refused(hf_tokenizer_json(model, trained->merges), "the split pattern is not valid UTF-8");
  Status s = write_hf_tokenizer_json(trained->model, trained->merges, "/no-such-dir/t.json");
  EXPECT_EQ(s.code(), ErrorCode::kIoError) << s.message();
  EXPECT_NE(s.message().find("/no-such-dir/t.json"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tokenmill
