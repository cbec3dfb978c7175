// Tokenizer (include/tokenmill/tokenizer.h): the loader's errors, and the pipeline on small tokenizer.json
// files whose expected output was produced by HF tokenizers 0.23.3 (values below). The real models are
// compared with HF in tests/differential/test_hf_tokenizer.py.
#include "tokenmill/tokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "random_bpe.h"
#include "test_util.h"
#include "tokenmill/encoding.h"
#include "tokenmill/hf_json.h"

namespace tokenmill {
namespace {

// A byte-level BPE: vocab a b c ab abc Ġ Ġa, merges (a b), (ab c), (Ġ a); special <s> (id 7), and a
// non-special added token "bc" (id 8) that the model vocabulary lacks.
std::string small_json(const std::string& model_extra = "", const std::string& top_extra = "") {
  return R"({"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [{"id": 7, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                   {"id": 8, "content": "bc", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
     "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [7], "tokens": ["<s>"]}}},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
    "fuse_unk": false, "byte_fallback": false, "ignore_merges": false)" +
         model_extra + R"(,
    "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "Ġ": 5, "Ġa": 6},
    "merges": ["a b", "ab c", "Ġ a"]})" +
         top_extra + "}";
}

TEST(Tokenizer, PairTruncationAndPaddingFromTheJson) {
  // small_json with a pair template and tokenizer.json truncation and padding fields; expected values from HF:
  // Tokenizer.from_str(json).encode("abc ab abc", "ab a") (its ids, type ids, offsets, sequence ids, overflowing).
  std::string json = small_json();
  auto put = [&](const std::string& from, const std::string& to) { json.replace(json.find(from), from.size(), to); };
  put(R"("pair": [])",
      R"("pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},)"
      R"( {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}])");
  put(R"("truncation": null, "padding": null)",
      R"("truncation": {"direction": "Right", "max_length": 6, "strategy": "LongestFirst", "stride": 1},)"
      R"( "padding": {"strategy": {"Fixed": 8}, "direction": "Left", "pad_to_multiple_of": null, "pad_id": 5,)"
      R"( "pad_type_id": 2, "pad_token": "Ġ"})");
  auto tok = Tokenizer::from_string(json);
  ASSERT_TRUE(tok.ok()) << tok.error();
  ASSERT_TRUE(tok->truncation() && tok->padding());
  EXPECT_EQ(tok->num_special_tokens_to_add(true), 2u);
  auto enc = tok->encode("abc ab abc", "ab a");
  ASSERT_TRUE(enc.ok()) << enc.error();
  EXPECT_EQ(enc->ids, (std::vector<uint32_t>{5, 5, 7, 0, 8, 7, 3, 6}));
  EXPECT_EQ(enc->type_ids, (std::vector<uint32_t>{2, 2, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(enc->offsets, (std::vector<Offsets>{{0, 0}, {0, 0}, {0, 0}, {0, 1}, {1, 3}, {0, 0}, {0, 2}, {2, 4}}));
  EXPECT_EQ(enc->attention_mask, (std::vector<uint32_t>{0, 0, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(enc->special_tokens_mask, (std::vector<uint32_t>{1, 1, 1, 0, 0, 1, 0, 0}));
  const auto none = std::nullopt;
  EXPECT_EQ(enc->sequence_ids(), (std::vector<std::optional<uint32_t>>{none, none, none, 0, 0, none, 1, 1}));
  ASSERT_EQ(enc->overflowing.size(), 4u);
  EXPECT_EQ(enc->overflowing[0].ids, (std::vector<uint32_t>{5, 5, 7, 8, 5, 7, 3, 6}));
  EXPECT_EQ(enc->overflowing[3].ids, (std::vector<uint32_t>{5, 5, 7, 6, 8, 7, 3, 6}));
  EXPECT_EQ(enc->overflowing[3].offsets[4], (Offsets{8, 10}));
  // encode_ids honours the settings too; without them a copy is unchanged and the original keeps them.
  EXPECT_EQ(*tok->encode_ids("abc ab abc"), tok->encode("abc ab abc")->ids);
  auto plain = tok->with_truncation(std::nullopt);
  ASSERT_TRUE(plain.ok());
  Tokenizer bare = plain->with_padding(std::nullopt);
  EXPECT_EQ(bare.encode("abc ab abc", "ab a")->tokens,
            (std::vector<std::string>{"<s>", "a", "bc", "Ġ", "ab", "Ġa", "bc", "<s>", "ab", "Ġa"}));
  EXPECT_TRUE(tok->truncation().has_value());
  TruncationParams wide;
  wide.max_length = 3;
  wide.stride = 2;  // HF accepts a stride equal to max_length less the added token ...
  EXPECT_TRUE(tok->with_truncation(wide).ok());
  wide.stride = 3;  // ... and refuses one above it
  EXPECT_FALSE(tok->with_truncation(wide).ok());
}

TEST(Tokenizer, EncodesLikeHf) {
  auto tok = Tokenizer::from_string(small_json());
  ASSERT_TRUE(tok.ok()) << tok.error();
  // HF: Tokenizer.from_str(small_json()).encode("abc abbc<s>a")
  auto enc = tok->encode("abc abbc<s>a");
  ASSERT_TRUE(enc.ok()) << enc.error();
  // The non-special added token "bc" is extracted everywhere, even from inside "abc".
  EXPECT_EQ(enc->ids, (std::vector<uint32_t>{7, 0, 8, 5, 3, 8, 7, 0}));
  EXPECT_EQ(enc->tokens, (std::vector<std::string>{"<s>", "a", "bc", "Ġ", "ab", "bc", "<s>", "a"}));
  EXPECT_EQ(enc->offsets, (std::vector<Offsets>{{0, 0}, {0, 1}, {1, 3}, {3, 4}, {4, 6}, {6, 8}, {8, 11}, {11, 12}}));
  EXPECT_EQ(enc->special_tokens_mask, (std::vector<uint32_t>{1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(enc->word_ids, (std::vector<std::optional<uint32_t>>{std::nullopt, 0, 1, 2, 2, 3, 4, 5}));
  EXPECT_EQ(*tok->decode(enc->ids), "abc abbca");
  EXPECT_EQ(*tok->decode(enc->ids, false), "<s>abc abbc<s>a");
  EXPECT_EQ(tok->token_to_id("bc"), 8u);
  EXPECT_EQ(tok->id_to_token(6), "Ġa");
  EXPECT_EQ(tok->vocab_size(), 9u);
  EXPECT_EQ(tok->vocab_size(false), 7u);
}

TEST(Tokenizer, CharOffsets) {
  auto tok = Tokenizer::from_string(small_json());
  ASSERT_TRUE(tok.ok());
  Tokenizer::EncodeOptions o;
  o.add_special_tokens = false;
  o.char_offsets = true;
  // HF: é's bytes are no tokens and there is no unk_token, so they are dropped; " a" is characters 1..3.
  auto enc = tok->encode("é a", o);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(enc->ids, (std::vector<uint32_t>{6}));
  EXPECT_EQ(enc->offsets, (std::vector<Offsets>{{1, 3}}));
  std::vector<Offsets> bytes{{0, 2}, {2, 3}, {3, 4}};
  EXPECT_EQ(char_offsets("é a", bytes), (std::vector<Offsets>{{0, 1}, {1, 2}, {2, 3}}));
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  auto tok = Tokenizer::from_string(small_json());
  ASSERT_TRUE(tok.ok());
  EXPECT_FALSE(tok->encode("a\xff").ok());
}

void expect_error(const std::string& json, const std::string& fragment) {
  auto tok = Tokenizer::from_string(json, "t.json");
  ASSERT_FALSE(tok.ok()) << "loaded, expected an error with " << fragment;
  EXPECT_NE(tok.error().find(fragment), std::string::npos) << tok.error();
  EXPECT_EQ(tok.error().rfind("t.json", 0), 0u) << tok.error();
}

TEST(Tokenizer, LoadErrorsNameTheJsonPath) {
  expect_error("{\"model\": ", "not valid JSON");
  // Where a malformed file breaks: the second of two commas, on the second line.
  expect_error("{\"version\": \"1.0\",\n \"model\": {\"type\": \"BPE\",, \"vocab\": {}}}",
               "not valid JSON at byte 44 (line 2, column 26)");
  std::string dropout = small_json();
  dropout.replace(dropout.find("\"dropout\": null"), 15, "\"dropout\": 0.1");
  expect_error(dropout, "model.dropout");
  std::string unigram = small_json();
  unigram.replace(unigram.find("\"type\": \"BPE\""), 13, "\"type\": \"Unigram\"");
  expect_error(unigram, "model.type: model 'Unigram' is not supported");
  std::string bert = small_json();
  bert.replace(bert.find("\"normalizer\": null"), 18,
               R"("normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "BertNormalizer"}]})");
  expect_error(bert, "normalizer.normalizers[1].type: normalizer 'BertNormalizer' is not supported");
  std::string meta = small_json();
  meta.replace(meta.find("\"pre_tokenizer\": {"), 17,
               R"("pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Metaspace", "replacement": "ab"}]},
                   "x":)");
  expect_error(meta, "pre_tokenizer.pretokenizers[0].replacement: expected one character");
  std::string wp = small_json();
  wp.replace(wp.find("\"pre_tokenizer\": {"), 17,
             R"("pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "BertPreTokenizer"}]}, "x":)");
  expect_error(wp, "pre_tokenizer.pretokenizers[0].type: pre-tokenizer 'BertPreTokenizer' is not supported");
  std::string bad_merge = small_json();
  bad_merge.replace(bad_merge.find("\"Ġ a\""), 6, "\"a z\"");  // Ġ is two bytes
  expect_error(bad_merge, "model.merges[2]");
  std::string clash = small_json();
  clash.replace(clash.find("\"id\": 8"), 7, "\"id\": 7");
  expect_error(clash, "added_tokens[1].id");
  std::string model_clash = small_json();
  model_clash.replace(model_clash.find("\"id\": 8"), 7, "\"id\": 2");
  expect_error(model_clash, "added_tokens[1]");
  std::string dup = small_json();
  dup.replace(dup.find("\"Ġa\": 6"), 8, "\"Ġa\": 5");
  expect_error(dup, "id 5");
  std::string padding = small_json();
  padding.replace(padding.find("\"padding\": null"), 15, R"("padding": {"strategy": "BatchLongest"})");
  expect_error(padding, "padding.direction: expected Left or Right");  // HF requires every PaddingParams field
  std::string mixed = small_json();
  mixed.replace(mixed.find("\"ab c\""), 6, "[\"ab\", \"c\"]");
  expect_error(mixed, "model.merges[1]: mixes");
  expect_error(
      small_json("", R"(, "extra": 1)").replace(small_json().find("\"use_regex\": true"), 17, "\"use_regex\": 3"),
      "pre_tokenizer.use_regex");
}

TEST(Tokenizer, MissingFileIsAnError) {
  auto tok = Tokenizer::from_file("/nonexistent/tokenizer.json");
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.error().find("/nonexistent/tokenizer.json"), std::string::npos);
}

TEST(DecodeStream, EmitsCompleteCharactersOnly) {
  // Byte-level, "é" as its two byte tokens (Ã ©). HF 0.23.3's decoders.DecodeStream on these ids
  // [0, 1, 2, 3, 4, 3] ("é a<s>a") gives None, "é", " ", "a", "<s>", "a"; skipping special tokens, None
  // for <s>.
  auto tok = Tokenizer::from_string(R"({"added_tokens": [{"id": 4, "content": "<s>", "single_word": false,
    "lstrip": false, "rstrip": false, "normalized": false, "special": true}], "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
    "post_processor": null, "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"\u00c3": 0, "\u00a9": 1, "\u0120": 2, "a": 3}, "merges": []}})");
  ASSERT_TRUE(tok.ok()) << tok.error();
  using Pieces = std::vector<std::optional<std::string>>;
  auto run = [&](bool skip) {
    DecodeStream stream(skip);
    Pieces out;
    for (uint32_t id : {0u, 1u, 2u, 3u, 4u, 3u}) {
      auto piece = stream.step(*tok, id);
      EXPECT_TRUE(piece.ok()) << piece.error();
      out.push_back(piece.ok() ? *piece : std::nullopt);
    }
    return out;
  };
  EXPECT_EQ(run(false), (Pieces{std::nullopt, "\u00e9", " ", "a", "<s>", "a"}));
  EXPECT_EQ(run(true), (Pieces{std::nullopt, "\u00e9", " ", "a", std::nullopt, "a"}));
}

// JSON string literal of a tokenizer.json string (the alphabet and the patterns have no control character
// but these two).
std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\r' || c == '\n') {
      out += c == '\r' ? "\\r" : "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A byte-level model of the fast path's shape: `pre_tokenizer` over a random merge list, with added tokens
// (special and not, one normalized) and a BOS template.
std::string fast_shape_json(uint32_t seed, bool ignore_merges, const std::string& pre_tokenizer,
                            const std::string& normalizer = "null") {
  testing::RandomBpe r = testing::random_byte_level_bpe(seed, 80);
  const uint32_t bos = uint32_t(r.vocab.size()), think = bos + 1, tab = bos + 2;
  std::string vocab, merges;
  for (const auto& [tok, id] : r.vocab)
    vocab += (vocab.empty() ? "" : ",") + json_quoted(tok) + ":" + std::to_string(id);
  for (const auto& [a, b] : r.merges) merges += (merges.empty() ? "" : ",") + json_quoted(a + " " + b);
  auto added = [](uint32_t id, const char* content, bool special, bool normalized) {
    return R"({"id":)" + std::to_string(id) + R"(,"content":")" + content +
           R"(","single_word":false,"lstrip":false,"rstrip":false,"normalized":)" + (normalized ? "true" : "false") +
           R"(,"special":)" + (special ? "true" : "false") + "}";
  };
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":[)" + added(bos, "<s>", true, false) +
         "," + added(think, "<think>", false, false) + "," + added(tab, "b\\tc", false, true) + R"(],"normalizer":)" +
         normalizer + R"(,"pre_tokenizer":)" + pre_tokenizer +
         R"(,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},)"
         R"({"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[)" +
         std::to_string(bos) +
         R"(],"tokens":["<s>"]}}},"decoder":null,"model":{"type":"BPE","dropout":null,)"
         R"("unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":null,"fuse_unk":false,)"
         R"("byte_fallback":false,"ignore_merges":)" +
         (ignore_merges ? "true" : "false") + R"(,"vocab":{)" + vocab + "},\"merges\":[" + merges + "]}}";
}

std::string split_then_byte_level(std::string_view pattern, const char* behavior, bool invert) {
  return R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":)" + json_quoted(pattern) +
         R"(},"behavior":")" + behavior + R"(","invert":)" + (invert ? "true" : "false") +
         R"(},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
}

TEST(Tokenizer, IdsPathMatchesThePipeline) {
  // encode_ids runs these shapes on an Encoding's fused loop; its ids must be the stage-by-stage pipeline's
  // (itself compared with HF in tests/differential/test_hf_tokenizer.py) on text dense in merges, added
  // tokens and every character class.
  struct Shape {
    std::string pre_tokenizer, normalizer;
    Pretokenizer::Kind kind;
  };
  // DeepSeek V3's shape: its three Splits (a scanner), then ByteLevel.
  std::string deepseek = R"({"type":"Sequence","pretokenizers":[)";
  for (std::string_view pattern : kDeepSeekV3Splits) {
    deepseek +=
        R"({"type":"Split","pattern":{"Regex":)" + json_quoted(pattern) + R"(},"behavior":"Isolated","invert":false},)";
  }
  deepseek += R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
  // Three Splits no scanner knows, then ByteLevel.
  const std::string three_splits =
      R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}{1,3}"},"behavior":"Isolated",)"
      R"("invert":false},{"type":"Split","pattern":{"Regex":"[\u4e00-\u9fa5]+"},"behavior":"Isolated","invert":false},)"
      R"({"type":"Split","pattern":{"Regex":"[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s+"},)"
      R"("behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
  const std::string gpt2 = R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true})";
  const Shape shapes[] = {
      {split_then_byte_level(kLlama3Pattern, "Isolated", false), "null", Pretokenizer::Kind::kGpt4},
      {split_then_byte_level(kQwen2Pattern, "Isolated", false), R"({"type":"NFC"})", Pretokenizer::Kind::kQwen2},
      {split_then_byte_level(kO200kPattern, "Removed", true), "null", Pretokenizer::Kind::kO200k},
      {gpt2, "null", Pretokenizer::Kind::kR50k},
      {deepseek, "null", Pretokenizer::Kind::kDeepSeekV3},
      {three_splits, "null", Pretokenizer::Kind::kRegex},
  };
  std::mt19937 rng(99);
  const char* units[] = {"a",
                         "b",
                         "c",
                         " ",
                         "ab",
                         "  ",
                         "\n",
                         "<s>",
                         "<think>",
                         "b\tc",
                         "'S",
                         "12345",
                         "e\xCC\x81",
                         "\xC3\xA9",
                         "\xE4\xB8\xAD",
                         "\xF0\x9F\x98\x80",
                         "\t",
                         "!?",
                         "A",
                         "\xE3\x83\xBB" /* ・ */,
                         "\xE3\x81\x8B" /* か */,
                         ".x",
                         "\xE2\x82\xAC" /* € */};
  for (const Shape& shape : shapes) {
    for (bool ignore_merges : {false, true}) {
      for (uint32_t seed = 1; seed <= 4; ++seed) {
        auto tok = Tokenizer::from_string(fast_shape_json(seed, ignore_merges, shape.pre_tokenizer, shape.normalizer));
        ASSERT_TRUE(tok.ok()) << tok.error();
        ASSERT_TRUE(tok->ids_path().fused) << shape.pre_tokenizer;
        ASSERT_EQ(tok->ids_path().splitter, shape.kind) << shape.pre_tokenizer;
        for (int i = 0; i < 200; ++i) {
          std::string text;
          for (size_t n = rng() % 30; n > 0; --n) text += units[rng() % std::size(units)];
          text += testing::random_text(rng, 8);
          for (bool add_special : {false, true}) {
            // encode_special_tokens (<s> as text) on both paths too.
            const Tokenizer split_special = tok->with_encode_special_tokens(true);
            for (const Tokenizer* t : {static_cast<const Tokenizer*>(&*tok), &split_special}) {
              Tokenizer::EncodeOptions options;
              options.add_special_tokens = add_special;
              auto full = t->encode(text, options);
              auto ids = t->encode_ids(text, add_special);
              ASSERT_TRUE(full.ok() && ids.ok());
              ASSERT_EQ(*ids, full->ids) << ::testing::PrintToString(text) << t->encode_special_tokens();
            }
          }
        }
      }
    }
  }
}

// Gemma 3's shape: spaces to "▁", a Split at " " (then a no-op) or none, and BPE over characters with byte
// fallback and <unk>, over a random merge list.
std::string sentencepiece_shape_json(uint32_t seed, size_t n_merges, bool merge_unknowns, bool split,
                                     bool byte_fallback, bool unk, bool fuse_unk, bool with_normalized_token) {
  const std::vector<std::string> characters = {"a", "b", "c", "\u2581", "\u00e9", "\u4e2d", ">", "<", "\n"};
  testing::RandomBpe r = testing::random_character_bpe(seed, n_merges, characters, merge_unknowns);
  const uint32_t bos = uint32_t(r.vocab.size()), think = bos + 1, normalized = bos + 2;
  std::string vocab, merges;
  for (const auto& [tok, id] : r.vocab)
    vocab += (vocab.empty() ? "" : ",") + json_quoted(tok) + ":" + std::to_string(id);
  for (const auto& [a, b] : r.merges) merges += (merges.empty() ? "" : ",") + json_quoted(a + " " + b);
  auto added = [](uint32_t id, const char* content, bool special, bool normalized = false) {
    return R"({"id":)" + std::to_string(id) + R"(,"content":")" + content +
           R"(","single_word":false,"lstrip":false,"rstrip":false,"normalized":)" + (normalized ? "true" : "false") +
           R"(,"special":)" + (special ? "true" : "false") + "}";
  };
  const std::string pre =
      split ? R"({"type":"Split","pattern":{"String":" "},"behavior":"MergedWithPrevious","invert":false})" : "null";
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":[)" + added(bos, "<s>", true) + "," +
         added(think, "<think>", false) + (with_normalized_token ? "," + added(normalized, "b c", false, true) : "") +
         R"(],"normalizer":{"type":"Replace","pattern":{"String":" "},"content":"\u2581"},"pre_tokenizer":)" + pre +
         R"(,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},)"
         R"({"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[)" +
         std::to_string(bos) + R"(],"tokens":["<s>"]}}},"decoder":null,"model":{"type":"BPE","dropout":null,)" +
         R"("unk_token":)" + (unk ? R"("<unk>")" : "null") +
         R"(,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":)" + (fuse_unk ? "true" : "false") +
         R"(,"byte_fallback":)" + (byte_fallback ? "true" : "false") + R"(,"ignore_merges":false,"vocab":{)" + vocab +
         "},\"merges\":[" + merges + "]}}";
}

TEST(Tokenizer, SentencePieceShapeIdsPathMatchesThePipeline) {
  // The ids path reads "▁" as ' ' and cuts each segment before a "▁" no merge can join to what precedes it;
  // BPE of the parts must be the pipeline's BPE of the whole segment, for merge lists that do and do not join
  // characters, byte fallback tokens and <unk> to a following "▁", and for characters the vocabulary lacks.
  std::mt19937 rng(7);
  const char* units[] = {
      "a",         "b",   "c",       " ",      "  ", "\u00e9", "\u4e2d", ">",   "<",       "x", "\xF0\x9F\x98\x80",
      "e\xCC\x81", "<s>", "<think>", "\u2581", "\n", "ab ",    " c",     "b c", "b\u2581c"};
  // Every combination of: byte fallback and <unk> (fused or not), <unk> only, neither (an unknown character
  // vanishes); few, some or many merges; merges over the unknown tokens or not. A third of the models have a
  // normalized added token ("b c", matched as "b▁c").
  for (uint32_t seed = 1; seed <= 24; ++seed) {
    const uint32_t unknowns = seed % 4, merges = (seed / 4) % 3;
    const size_t n_merges = merges == 0 ? 8 : merges == 1 ? 30 : 90;
    const bool merge_unknowns = seed > 12, split = ((seed / 2) % 2 == 0) != merge_unknowns;
    const bool byte_fallback = unknowns < 2, unk = unknowns < 3, fuse_unk = unknowns != 1;
    auto tok = Tokenizer::from_string(
        sentencepiece_shape_json(seed, n_merges, merge_unknowns, split, byte_fallback, unk, fuse_unk, seed % 3 == 0));
    ASSERT_TRUE(tok.ok()) << tok.error();
    ASSERT_TRUE(tok->ids_path().fused) << seed;
    for (int i = 0; i < 300; ++i) {
      std::string text;
      for (size_t n = rng() % 40; n > 0; --n) text += units[rng() % std::size(units)];
      for (bool add_special : {false, true}) {
        Tokenizer::EncodeOptions options;
        options.add_special_tokens = add_special;
        auto full = tok->encode(text, options);
        auto ids = tok->encode_ids(text, add_special);
        ASSERT_TRUE(full.ok() && ids.ok());
        ASSERT_EQ(*ids, full->ids) << "seed " << seed << ": " << ::testing::PrintToString(text);
      }
    }
  }
}

TEST(Tokenizer, OtherShapesRunTheStages) {
  // A prefix space (ByteLevel rewrites the text) or a normalizer other than NFC keep encode_ids on the stages;
  // a pattern no scanner knows keeps the fused loop, split by the stage.
  const std::string custom = split_then_byte_level(R"(\p{L}+|\s+|[^\s\p{L}]+)", "Isolated", false);
  const std::string prefix_space =
      R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})";
  const std::string llama3 = split_then_byte_level(kLlama3Pattern, "Isolated", false);
  struct Case {
    std::string pre, normalizer;
    bool fused;
  };
  for (const Case& c : {Case{custom, "null", true}, Case{prefix_space, "null", false},
                        Case{llama3, R"({"type":"Lowercase"})", false}}) {
    auto tok = Tokenizer::from_string(fast_shape_json(1, false, c.pre, c.normalizer));
    ASSERT_TRUE(tok.ok()) << tok.error();
    EXPECT_EQ(tok->ids_path().fused, c.fused) << c.pre << " " << c.normalizer;
    EXPECT_EQ(tok->ids_path().splitter, Pretokenizer::Kind::kRegex) << c.pre << " " << c.normalizer;
  }
}

// Pre-tokenized input by its definition (HF's encode_single_sequence): each word encoded alone, its tokens
// all with the word's index as word id and offsets into the word, concatenated, then the post-processor.
TEST(Tokenizer, WordsAreEncodedOneByOne) {
  auto tok = Tokenizer::from_string(small_json());
  ASSERT_TRUE(tok.ok()) << tok.error();
  const std::vector<std::string_view> words = {"ab", "", " a", "bc<s>", "b a"};
  Tokenizer::EncodeOptions plain;
  plain.add_special_tokens = false;
  auto got = tok->encode_words(words, plain);
  ASSERT_TRUE(got.ok()) << got.error();
  Encoded want;
  for (size_t i = 0; i < words.size(); ++i) {
    auto one = tok->encode(words[i], plain);
    ASSERT_TRUE(one.ok()) << one.error();
    for (size_t k = 0; k < one->size(); ++k) {
      want.ids.push_back(one->ids[k]);
      want.offsets.push_back(one->offsets[k]);
      want.word_ids.push_back(uint32_t(i));
    }
  }
  EXPECT_EQ(got->ids, want.ids);
  EXPECT_EQ(got->offsets, want.offsets);
  EXPECT_EQ(got->word_ids, want.word_ids);
  // Pairs are held against HF in tests/python/test_hf_pairs.py. A word that is not UTF-8 is named by its index.
  auto bad = tok->encode_words(std::vector<std::string_view>{"a", "\xff"}, plain);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("word 1"), std::string::npos) << bad.error();
}

TEST(Tokenizer, FromEncodingGivesTheEncodingsIdsWithEverySpecialToken) {
  // Its ids are the Encoding's (itself tiktoken's, tests/differential) with every special token allowed, on
  // the fused path and the stages alike; its tokens are the ids' bytes in byte-level form, its decode the
  // Encoding's. (HF loading the same file and giving tiktoken's ids: tests/python/test_hf.py.)
  std::mt19937 rng(5);
  for (const char* name : {"r50k_base", "p50k_base", "cl100k_base", "o200k_base"}) {
    const Encoding& enc = testing::builtin(name);
    auto tok = Tokenizer::from_encoding(enc);
    ASSERT_TRUE(tok.ok()) << tok.error();
    EXPECT_TRUE(tok->ids_path().fused) << name;
    for (const auto& [special, id] : enc.special_tokens()) EXPECT_EQ(tok->token_to_id(special), id) << special;
    for (int i = 0; i < 300; ++i) {
      std::string text = testing::random_text(rng, 40);
      for (const auto& [special, id] : enc.special_tokens()) {
        if (rng() % 3 == 0) text.insert(rng() % (text.size() + 1), special);  // may cut a character: invalid UTF-8
      }
      if (utf8_replace_invalid(text) != text) continue;
      auto want = enc.encode(text, SpecialSet::all());
      ASSERT_TRUE(want.ok()) << want.error();
      auto ids = tok->encode_ids(text);
      auto full = tok->encode(text);
      ASSERT_TRUE(ids.ok() && full.ok());
      ASSERT_EQ(*ids, *want) << name << ": " << ::testing::PrintToString(text);
      ASSERT_EQ(full->ids, *want) << name << ": " << ::testing::PrintToString(text);
      for (size_t k = 0; k < full->ids.size(); ++k) {
        auto bytes = enc.decode_single_token_bytes(full->ids[k]);
        ASSERT_TRUE(bytes.ok());
        const bool special = enc.ranks().find_or_none(*bytes) == kNoRank;  // an added token: its text
        EXPECT_EQ(full->tokens[k], special ? *bytes : byte_level_string(*bytes)) << name;
      }
      EXPECT_EQ(*tok->decode(*ids, false), *enc.decode(*ids)) << name;
    }
  }
}

}  // namespace
}  // namespace tokenmill
