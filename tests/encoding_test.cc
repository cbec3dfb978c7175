// Properties of Encoding that hold for every built-in encoding; exact ids against tiktoken are checked by
// the differential suite in tests/differential/.
#include "tokenmill/encoding.h"

#include <map>
#include <random>

#include <atomic>
#include <thread>

#include "test_util.h"

namespace tokenmill {
namespace {

class EveryEncoding : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryEncoding, DecodeBytesInvertsEncodeOnAnyBytes) {
  const Encoding& enc = testing::builtin(GetParam());
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? testing::random_text(rng, 40) : testing::random_bytes(rng, 60);
    auto ids = enc.encode_ordinary(text);
    ASSERT_TRUE(ids.ok()) << ids.error();
    auto back = enc.decode_bytes(*ids);
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(*back, text);
    ASSERT_EQ(*enc.count(text), ids->size());
  }
}

TEST_P(EveryEncoding, CountEqualsTheEncodesLengthPastItsBuffer) {
  // count() empties its buffer every 32768 ids: texts of ~10^5 tokens cross that several times.
  const Encoding& enc = testing::builtin(GetParam());
  std::mt19937 rng(17);
  for (int i = 0; i < 3; ++i) {
    std::string text;
    while (text.size() < 400000) text += testing::random_text(rng, 200);
    auto ids = enc.encode_ordinary(text);
    ASSERT_TRUE(ids.ok()) << ids.error();
    ASSERT_GT(ids->size(), 65536u);
    EXPECT_EQ(*enc.count(text), ids->size());
  }
}

TEST_P(EveryEncoding, BatchEqualsSerialForAnyThreadCount) {
  const Encoding& enc = testing::builtin(GetParam());
  std::mt19937 rng(5);
  // Short texts are encoded in groups of up to 1024 texts or 64 KiB: enough texts for several groups, with
  // empty ones, invalid UTF-8, and texts of a group's size and more (encoded alone) among them.
  std::vector<std::string> texts;
  for (int i = 0; i < 2500; ++i) {
    if (i % 97 == 0) {
      texts.emplace_back();
    } else if (i % 31 == 0) {
      texts.push_back(testing::random_bytes(rng, 50));
    } else if (i % 1000 == 500) {
      std::string big;
      while (big.size() < 70000) big += testing::random_text(rng, 200);
      texts.push_back(std::move(big));
    } else {
      texts.push_back(testing::random_text(rng, 1 + i % 200));
    }
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<std::vector<Rank>> serial;
  for (auto v : views) serial.push_back(*enc.encode_ordinary(v));
  for (unsigned threads : {1u, 2u, 3u, 8u}) EXPECT_EQ(*enc.encode_ordinary_batch(views, threads), serial) << threads;
}

TEST_P(EveryEncoding, DocumentsEncodeAsOneEncodePerDocument) {
  const Encoding& enc = testing::builtin(GetParam());
  std::mt19937 rng(31);
  // Documents shorter than the pipeline's ring and longer, empty ones, invalid UTF-8, trailing whitespace
  // (`\s++$` holds at a document's end, not at the batch's), and pairs that would merge across a boundary.
  std::vector<std::string> docs = {"", "don", "'t", "a  ", " ", "\n\n", "x", "", "123", "4567"};
  for (int i = 0; i < 300; ++i) {
    switch (i % 4) {
      case 0:
        docs.push_back(testing::random_text(rng, 1 + i % 7));
        break;
      case 1:
        docs.push_back(testing::random_text(rng, 120));
        break;
      case 2:
        docs.push_back(testing::random_bytes(rng, 1 + i % 30));
        break;
      default:
        docs.push_back(i % 8 == 3 ? std::string() : testing::random_text(rng, 30) + "   ");
    }
  }
  std::string text;
  std::vector<size_t> ends;
  for (const auto& d : docs) {
    text += d;
    ends.push_back(text.size());
  }
  for (auto [begin, end] : {std::pair{kNoRank, kNoRank}, std::pair{Rank(7), kNoRank}, std::pair{kNoRank, Rank(9)}}) {
    std::vector<Rank> expected = {42};  // appended after what out holds
    std::vector<size_t> expected_ends;
    for (const auto& d : docs) {
      if (begin != kNoRank) expected.push_back(begin);
      ASSERT_TRUE(enc.encode_ordinary(d, expected).ok());
      if (end != kNoRank) expected.push_back(end);
      expected_ends.push_back(expected.size());
    }
    std::vector<Rank> out = {42};
    std::vector<size_t> token_ends;
    ASSERT_TRUE(enc.encode_ordinary_documents(text, ends, out, token_ends, begin, end).ok());
    EXPECT_EQ(out, expected) << begin << " " << end;
    EXPECT_EQ(token_ends, expected_ends) << begin << " " << end;
  }
  std::vector<Rank> out;
  std::vector<size_t> token_ends;
  const std::vector<size_t> beyond = {3, text.size() + 1};
  EXPECT_FALSE(enc.encode_ordinary_documents(text, beyond, out, token_ends).ok());
  const std::vector<size_t> descending = {5, 3};
  EXPECT_FALSE(enc.encode_ordinary_documents(text, descending, out, token_ends).ok());
}

// Megabytes of text with many cut points: words and line breaks, with random class-covering characters.
std::string long_text_with_cuts(size_t bytes, uint32_t seed) {
  static const char* kWords[] = {"The", " the", " cat", "'s", " 2024", ".\n", "\n", ",", " don't", "\r\n", "  ", " x"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> word(0, std::size(kWords) - 1);
  std::uniform_int_distribution<int> coin(0, 15);
  std::string text;
  while (text.size() < bytes) {
    text += kWords[word(rng)];
    if (coin(rng) == 0) text += testing::random_text(rng, 8);
  }
  return text;
}

TEST_P(EveryEncoding, ParallelEncodeEqualsSerial) {
  const Encoding& enc = testing::builtin(GetParam());
  const std::string text = long_text_with_cuts(5 << 20, 99);
  const std::vector<Rank> serial = *enc.encode_ordinary(text);
  for (unsigned threads : {2u, 8u}) {
    EXPECT_EQ(*enc.encode_ordinary_parallel(text, threads), serial) << threads << " threads";
  }
  // Invalid UTF-8 (tiktoken's _encode_bytes rule applies to the whole text) and text without cuts.
  std::string invalid = text;
  invalid[invalid.size() - 100] = char(0xFF);
  EXPECT_EQ(*enc.encode_ordinary_parallel(invalid, 2), *enc.encode_ordinary(invalid));
  const std::string no_cuts(3 << 20, 'a');
  EXPECT_EQ(*enc.encode_ordinary_parallel(no_cuts, 2), *enc.encode_ordinary(no_cuts));
}

TEST(PieceCache, AllThreadsStayWithinTheBudget) {
  // Rare words miss the vocabulary, so every thread stores BPE results and would grow its cache to 16 MB.
  const Encoding& enc = testing::builtin("cl100k_base");
  const size_t saved = piece_cache_budget();
  set_piece_cache_budget(size_t(3) << 20);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> letter('a', 'z'), len(6, 12);
  std::vector<std::string> texts(8);
  for (auto& t : texts) {
    while (t.size() < (1 << 20)) {
      t += ' ';
      for (int i = len(rng); i > 0; --i) t += char(letter(rng));
    }
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::atomic<size_t> peak{0};
  std::vector<std::vector<Rank>> batch;
  {
    std::atomic<bool> done{false};
    std::thread watch([&] {
      while (!done) peak = std::max(peak.load(), piece_cache_bytes_in_use());
    });
    batch = *enc.encode_ordinary_batch(views, 8);
    done = true;
    watch.join();
  }
  set_piece_cache_budget(saved);
  EXPECT_LE(peak.load(), size_t(3) << 20);
  EXPECT_GT(peak.load(), size_t(1) << 20);  // the caches did grow up to the budget
  // Threads that ran without a cache, or with a smaller one, give the same ids.
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i], *enc.encode_ordinary(texts[i])) << i;
  EXPECT_EQ(piece_cache_bytes_in_use() % (size_t(1) << 20), 0u);  // whole caches only; exited threads freed
}

TEST(PieceCache, HitsInEitherWayAndEvictionsNeverChangeIds) {
  // 60k distinct rare words, each used three times in random order, through a 1 MiB cache (16k entries in
  // 8k two-way sets): most results are evicted, many are hit in the older way, and the cache is sized up
  // front from the text's length. The ids must be those of BPE with no cache at all.
  const Encoding& enc = testing::builtin("cl100k_base");
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> letter('a', 'z'), len(7, 12);
  std::vector<std::string> words(60000);
  for (auto& w : words) {
    w = " ";
    for (int i = len(rng); i > 0; --i) w += char(letter(rng));
  }
  std::vector<size_t> order;
  for (int copy = 0; copy < 3; ++copy) {
    for (size_t i = 0; i < words.size(); ++i) order.push_back(i);
  }
  std::shuffle(order.begin(), order.end(), rng);
  std::string text;
  for (size_t i : order) text += words[i];
  const size_t saved = piece_cache_budget();
  set_piece_cache_budget(0);
  std::vector<Rank> uncached;
  std::thread([&] { uncached = *enc.encode_ordinary(text); }).join();  // a fresh thread: no cache yet
  // Room for exactly one more 1 MiB cache, whatever other threads of this process hold.
  const size_t others = piece_cache_bytes_in_use();
  set_piece_cache_budget(others + (size_t(1) << 20));
  std::vector<Rank> cold, warm;
  size_t in_use = 0;
  std::thread([&] {
    cold = *enc.encode_ordinary(text);
    warm = *enc.encode_ordinary(text);
    in_use = piece_cache_bytes_in_use();
  }).join();
  set_piece_cache_budget(saved);
  EXPECT_EQ(in_use, others + (size_t(1) << 20));  // the thread did encode through a cache
  EXPECT_EQ(cold, uncached);
  EXPECT_EQ(warm, uncached);
}

TEST_P(EveryEncoding, EmptyInputEncodesToNoIds) {
  const Encoding& enc = testing::builtin(GetParam());
  EXPECT_TRUE(enc.encode_ordinary("")->empty());
  EXPECT_TRUE(enc.encode("")->empty());
  EXPECT_TRUE(enc.encode_bytes("")->empty());
  EXPECT_EQ(*enc.count(""), 0u);
}

TEST_P(EveryEncoding, SpecialTokensFollowAllowedAndDisallowed) {
  const Encoding& enc = testing::builtin(GetParam());
  ASSERT_TRUE(enc.eot_token().has_value());
  const std::string eot = "<|endoftext|>";
  const std::string text = "a" + eot + "b";
  // Default: every special is disallowed -> an error that names the token.
  auto refused = enc.encode(text);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kDisallowedSpecial);
  EXPECT_NE(refused.error().find(eot), std::string::npos);
  // Allowed (as a set or "all"): the special id, between the encodings of its neighbours.
  std::vector<Rank> expected = *enc.encode_ordinary("a");
  expected.push_back(*enc.eot_token());
  const std::vector<Rank> b = *enc.encode_ordinary("b");
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(*enc.encode(text, SpecialSet::of({eot})), expected);
  EXPECT_EQ(*enc.encode(text, SpecialSet::all()), expected);
  // Disallowed set emptied: encoded as ordinary text.
  EXPECT_EQ(*enc.encode(text, SpecialSet::none(), SpecialSet::none()), *enc.encode_ordinary(text));
  // encode_single_token finds it; the id decodes back to the text.
  EXPECT_EQ(*enc.encode_single_token(eot), *enc.eot_token());
  EXPECT_EQ(*enc.decode(std::vector<Rank>{*enc.eot_token()}), eot);
  EXPECT_TRUE(enc.is_special_token(*enc.eot_token()));
  // Every special encodes (allowed=all) to its own id, and the id decodes to its text. o200k_harmony
  // gives 200018 two names (<|endofprompt|> and <|reserved_200018|>); tiktoken decodes it as the first.
  std::map<Rank, std::vector<std::string>> names;
  for (const auto& [token, id] : enc.special_tokens()) names[id].push_back(token);
  for (const auto& [token, id] : enc.special_tokens()) {
    auto ids = enc.encode(token, SpecialSet::all());
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(ids->size(), 1u) << token;
    EXPECT_EQ((*ids)[0], id) << token;
    const std::string expected = names[id].size() == 1 ? token : std::string("<|endofprompt|>");
    EXPECT_EQ(enc.decode_bytes(*ids).value(), expected) << token;
  }
}

TEST_P(EveryEncoding, UnknownIdIsAnErrorNamingIt) {
  const Encoding& enc = testing::builtin(GetParam());
  const Rank bad = enc.n_vocab() + 5;
  auto r = enc.decode(std::vector<Rank>{1, bad});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnknownToken);
  EXPECT_NE(r.error().find(std::to_string(bad)), std::string::npos) << r.error();
  EXPECT_FALSE(enc.decode_single_token_bytes(bad).ok());
  EXPECT_FALSE(enc.decode_single_token_bytes(UINT32_MAX).ok());
}

TEST_P(EveryEncoding, EveryTokenIsItsOwnEncodingOfItsBytes) {
  // decode_single_token_bytes and encode_single_token are inverse over the whole vocabulary.
  const Encoding& enc = testing::builtin(GetParam());
  for (Rank r = 0; r < enc.ranks().rank_limit(); ++r) {
    auto bytes = enc.decode_single_token_bytes(r);
    ASSERT_TRUE(bytes.ok());
    ASSERT_EQ(*enc.encode_single_token(*bytes), r);
  }
}

INSTANTIATE_TEST_SUITE_P(Builtin, EveryEncoding, ::testing::ValuesIn(Encoding::builtin_names()));

TEST(Encoding, UnknownNameListsKnownOnes) {
  auto enc = Encoding::load("cl200k_base");
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(enc.error().find("cl200k_base"), std::string::npos);
  EXPECT_NE(enc.error().find("o200k_base"), std::string::npos);
}

TEST(Encoding, ModelNamesMapLikeTiktoken) {
  EXPECT_EQ(Encoding::encoding_name_for_model("gpt-4o-2024-05-13"), "o200k_base");
  EXPECT_EQ(Encoding::encoding_name_for_model("gpt-4"), "cl100k_base");
  EXPECT_EQ(Encoding::encoding_name_for_model("gpt-oss-120b"), "o200k_harmony");
  EXPECT_EQ(Encoding::encoding_name_for_model("not-a-model"), std::nullopt);
}

EncodingSpec byte_spec() {
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  EncodingSpec spec;
  spec.name = "bytes";
  spec.pattern = std::string(kCl100kPattern);
  spec.ranks = *Vocabulary::from_ranks(ranks);
  return spec;
}

TEST(EncodingCreate, RejectsInconsistentSpecs) {
  {
    EncodingSpec spec = byte_spec();
    spec.special_tokens = {{"<|x|>", 7}};
    auto e = Encoding::create(std::move(spec));
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().find("already an ordinary token"), std::string::npos) << e.error();
  }
  {
    EncodingSpec spec = byte_spec();
    spec.special_tokens = {{"<|x|>", 300}, {"<|x|>", 301}};
    EXPECT_FALSE(Encoding::create(std::move(spec)).ok());
  }
  {
    EncodingSpec spec = byte_spec();
    spec.explicit_n_vocab = 300;
    auto e = Encoding::create(std::move(spec));
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().find("explicit_n_vocab"), std::string::npos);
  }
  {
    EncodingSpec spec = byte_spec();
    spec.pattern = "[";
    EXPECT_EQ(Encoding::create(std::move(spec)).status().code(), ErrorCode::kInvalidArgument);
  }
  {
    std::vector<std::pair<std::string, Rank>> ranks = {{"a", 0}, {"b", 1}};
    EncodingSpec spec;
    spec.name = "ab";
    spec.pattern = "\\w+";
    spec.ranks = *Vocabulary::from_ranks(ranks);
    auto e = Encoding::create(std::move(spec));
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().find("0x00"), std::string::npos) << e.error();
  }
}

TEST(EncodingCreate, RankGapMustBeASpecialToken) {
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  ranks.emplace_back("ab", 257);
  for (bool fill : {false, true}) {
    EncodingSpec spec;
    spec.name = "gap";
    spec.pattern = std::string(kR50kPattern);
    spec.ranks = *Vocabulary::from_ranks(ranks);
    if (fill) spec.special_tokens = {{"<|x|>", 256}};
    auto e = Encoding::create(std::move(spec));
    EXPECT_EQ(e.ok(), fill);
    if (!fill) EXPECT_NE(e.error().find("rank 256 is missing"), std::string::npos) << e.error();
  }
}

TEST(EncodingCreate, UserDefinedEncodingWorks) {
  EncodingSpec spec = byte_spec();
  spec.special_tokens = {{"<|end|>", 256}};
  auto enc = Encoding::create(std::move(spec));
  ASSERT_TRUE(enc.ok()) << enc.error();
  EXPECT_EQ(enc->n_vocab(), 257u);
  auto ids = enc->encode("hi<|end|>", SpecialSet::all());
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<Rank>{'h', 'i', 256}));
}

// Python's bytes.decode("utf-8", "replace") semantics: valid text unchanged, output always valid, and each
// maximal invalid subpart one U+FFFD (the differential suite compares against Python itself).
TEST(Utf8Replace, OutputIsValidAndValidInputUnchanged) {
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    std::string valid = testing::random_text(rng, 30);
    EXPECT_EQ(utf8_replace_invalid(valid), valid);
    std::string any = testing::random_bytes(rng, 30);
    std::string out = utf8_replace_invalid(any);
    EXPECT_EQ(utf8_replace_invalid(out), out);
  }
}

EncodingSpec bytes_spec(std::string pattern) {
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  return EncodingSpec{"custom", std::move(pattern), *Vocabulary::from_ranks(std::move(ranks)), {}, std::nullopt};
}

// A custom pattern whose regex gives up is an error in every entry point, never a shorter output.
TEST(CustomPattern, RegexMatchErrorIsAnErrorEverywhere) {
  auto enc = Encoding::create(bytes_spec("(a+)+$|."));
  ASSERT_TRUE(enc.ok()) << enc.error();
  const std::string text = "xy" + std::string(40, 'a') + "b";
  EXPECT_FALSE(enc->encode_ordinary(text).ok());
  EXPECT_FALSE(enc->encode(text).ok());
  EXPECT_FALSE(enc->encode_bytes(text + "\xff").ok());
  EXPECT_FALSE(enc->count(text).ok());
  std::vector<std::string_view> batch = {"ok", text};
  auto b = enc->encode_ordinary_batch(batch, 2);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("text 1"), std::string::npos) << b.error();
  // In a batch of many texts (several groups), the error names the first text that fails.
  std::vector<std::string_view> many(3000, "ok");
  many[2100] = text;
  many[2900] = text;
  auto failed = enc->encode_ordinary_batch(many, 2);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().find("text 2100:"), std::string::npos) << failed.error();
  // A batch of documents stops at the one that fails, the ones before complete.
  const std::string docs = "ok" + text + "ok";
  const std::vector<size_t> ends = {2, 2 + text.size(), docs.size()};
  std::vector<Rank> out;
  std::vector<size_t> token_ends;
  EXPECT_FALSE(enc->encode_ordinary_documents(docs, ends, out, token_ends).ok());
  EXPECT_EQ(token_ends, (std::vector<size_t>{2}));
  // Text the engine can decide still encodes: one id per byte here.
  EXPECT_EQ(*enc->encode_ordinary("aab"), (std::vector<Rank>{97, 97, 98}));
}

// 4294967295 is the tables' "no token" value; as a special id it made n_vocab wrap to 0.
TEST(CustomPattern, SpecialIdThatMeansNoTokenIsRefused) {
  EncodingSpec spec = bytes_spec(".");
  spec.special_tokens = {{"<|x|>", kNoRank}};
  auto enc = Encoding::create(std::move(spec));
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.error().find("4294967295"), std::string::npos) << enc.error();
  EncodingSpec ok = bytes_spec(".");
  ok.special_tokens = {{"<|x|>", kNoRank - 1}};
  auto enc2 = Encoding::create(std::move(ok));
  ASSERT_TRUE(enc2.ok()) << enc2.error();
  EXPECT_EQ(enc2->n_vocab(), kNoRank);
}

}  // namespace
}  // namespace tokenmill
