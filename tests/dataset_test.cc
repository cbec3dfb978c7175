// include/tokenmill/dataset.h: the JSON Lines record parser on cases the Python json documentation fixes,
// DatasetWriter output read back with a reader written here from megatron-core's .idx layout, thread-count
// invariance, resume after an abandoned writer, gzip / zstd inputs made with zlib / libzstd here.
// (End-to-end parity with Python's json / open and tiktoken is tests/dataset, in Python.)
#include "tokenmill/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "dataset/manifest.h"
#include "temp_dir.h"
#include "test_util.h"
#include "util/sha256.h"

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), std::streamsize(data.size()));
}

template <class T>
T load_le(const std::string& s, size_t at) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= T(uint64_t(uint8_t(s[at + i])) << (8 * i));
  return v;
}

// megatron-core's .idx: magic, <Q version, <B dtype, <Q sequences, <Q documents, int32 lengths, int64
// pointers, int64 document indices. Returns the sequences.
std::vector<std::vector<Rank>> read_megatron(const std::string& prefix) {
  std::string idx = slurp(prefix + ".idx"), bin = slurp(prefix + ".bin");
  EXPECT_EQ(idx.substr(0, 9), std::string("MMIDIDX\0\0", 9));
  EXPECT_EQ(load_le<uint64_t>(idx, 9), 1u);
  const uint8_t code = uint8_t(idx[17]);
  const size_t width = code == 8 ? 2 : code == 4 ? 4 : 0;
  EXPECT_NE(width, 0u);
  const uint64_t n = load_le<uint64_t>(idx, 18), docs = load_le<uint64_t>(idx, 26);
  EXPECT_EQ(docs, n + 1);
  EXPECT_EQ(idx.size(), 34 + n * 4 + n * 8 + docs * 8);
  std::vector<std::vector<Rank>> out;
  for (uint64_t i = 0; i < n; ++i) {
    const int32_t len = load_le<int32_t>(idx, 34 + 4 * i);
    const int64_t ptr = load_le<int64_t>(idx, 34 + 4 * n + 8 * i);
    EXPECT_EQ(load_le<int64_t>(idx, 34 + 12 * n + 8 * i), int64_t(i));
    std::vector<Rank> seq;
    for (int32_t k = 0; k < len; ++k) {
      seq.push_back(width == 2 ? load_le<uint16_t>(bin, size_t(ptr) + 2 * k)
                               : load_le<uint32_t>(bin, size_t(ptr) + 4 * k));
    }
    out.push_back(std::move(seq));
  }
  return out;
}

std::vector<std::string> sample_docs(int n, unsigned seed) {
  std::mt19937 rng(seed);
  const char* parts[] = {"the", " ", "cat", "\n", "\xC3\xA9", "\xE6\x97\xA5", "  ", "123", "don't", "\xF0\x9F\x98\x80"};
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) {
    std::string d;
    for (unsigned k = rng() % 30; k > 0; --k) d += parts[rng() % 10];
    docs.push_back(d);
  }
  return docs;
}

std::map<std::string, std::string> output_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp") == std::string::npos && name.find(".jsonl") == std::string::npos) out[name] = slurp(e.path());
  }
  return out;
}

TEST(JsonlDocument, DuplicateKeysLastWins) {
  // Python's json docs: "only the last name-value pair for a given name is used".
  auto d = parse_jsonl_document(R"({"text": "a", "text": "b"})", "text");
  EXPECT_EQ(d.error, JsonlError::kNone);
  EXPECT_EQ(d.text, "b");
  EXPECT_EQ(parse_jsonl_document(R"({"text": "a", "text": 1})", "text").error, JsonlError::kFieldNotString);
}

TEST(JsonlDocument, PythonExtensionsAndStrictness) {
  // json docs: NaN, Infinity and -Infinity are accepted; control characters in strings are not (strict).
  EXPECT_EQ(parse_jsonl_document(R"({"x": NaN, "y": -Infinity, "text": "t"})", "text").text, "t");
  EXPECT_EQ(parse_jsonl_document("{\"text\": \"a\x01b\"}", "text").error, JsonlError::kMalformed);
  EXPECT_EQ(parse_jsonl_document(R"({"text": "a",})", "text").error, JsonlError::kMalformed);
  EXPECT_EQ(parse_jsonl_document(R"({"other": "a"})", "text").error, JsonlError::kMissingField);
  EXPECT_EQ(parse_jsonl_document(R"(["text"])", "text").error, JsonlError::kMalformed);
  // A surrogate pair is one code point (U+1F600); a lone surrogate becomes U+FFFD (what tiktoken encodes).
  EXPECT_EQ(parse_jsonl_document(R"({"text": "\ud83d\ude00"})", "text").text, "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_jsonl_document(R"({"text": "\ud800x"})", "text").text, "\xEF\xBF\xBDx");
  // errors="replace" before parsing: one U+FFFD per invalid byte here.
  auto r = parse_jsonl_document("{\"text\": \"a\xFF\"}", "text");
  EXPECT_TRUE(r.repaired);
  EXPECT_EQ(r.text, "a\xEF\xBF\xBD");
  // Deep nesting is an error, not a stack overflow.
  std::string deep = "{\"text\": \"t\", \"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(parse_jsonl_document(deep, "text").error, JsonlError::kMalformed);
}

// One document parsed into again and again (as the reader does) gives each line what a fresh one gives:
// nothing of an earlier line's text, message or repair survives, and a failed line has no text.
TEST(JsonlDocument, ReusedDocumentEqualsAFreshOne) {
  const std::vector<std::string> lines = {R"({"text": "a long first document"})",
                                          R"({"text": "a", "text": 1})",
                                          "{\"text\": \"b\xFF\"}",
                                          R"({"text": "short"})",
                                          R"({"other": "x"})",
                                          R"({"text": "unterminated)",
                                          R"({"text": ""})",
                                          R"({"text": "a\nb", "text": "last"})"};
  JsonlDocument reused;
  for (const std::string& line : lines) {
    parse_jsonl_document(line, "text", reused);
    const JsonlDocument fresh = parse_jsonl_document(line, "text");
    EXPECT_EQ(reused.error, fresh.error) << line;
    EXPECT_EQ(reused.text, fresh.text) << line;
    EXPECT_EQ(reused.message, fresh.message) << line;
    EXPECT_EQ(reused.repaired, fresh.repaired) << line;
    if (fresh.error != JsonlError::kNone) EXPECT_EQ(fresh.text, "") << line;
  }
}

// A string is read in runs of plain bytes, eight at a time: escapes, quotes and raw control bytes at every
// offset of long strings (and within and across each 8-byte word) must still be found. The expected text is
// what was written: the escaping below follows RFC 8259, section 7.
TEST(JsonlDocument, EscapesAtEveryOffsetRoundTrip) {
  std::mt19937 rng(8);
  const std::vector<std::string> pieces = {"a",
                                           "bc",
                                           " ",
                                           "\"",
                                           "\\",
                                           "/",
                                           "\n",
                                           "\t",
                                           "\x01",
                                           "\x1f",
                                           "\x7f",
                                           "\xC3\xA9",
                                           "\xF0\x9F\x98\x80",
                                           "0123456789abcdef"};
  for (int round = 0; round < 3000; ++round) {
    std::string text, json = "{\"text\": \"";
    const size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
    for (size_t i = 0; i < n; ++i) {
      const std::string& p = pieces[rng() % pieces.size()];
      text += p;
      for (unsigned char c : p) {
        if (c == '"' || c == '\\') {
          json += '\\';
          json += char(c);
        } else if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          json += buf;
        } else {
          json += char(c);
        }
      }
    }
    json += "\"}";
    auto d = parse_jsonl_document(json, "text");
    ASSERT_EQ(d.error, JsonlError::kNone) << json;
    ASSERT_EQ(d.text, text) << json;
    // The same text with one raw control byte (not allowed in a JSON string) at some offset is malformed.
    const size_t body = std::string("{\"text\": \"").size();
    std::string bad = json;
    bad.insert(body + rng() % (json.size() - body - 1), 1, char(rng() % 0x20));
    ASSERT_EQ(parse_jsonl_document(bad, "text").error, JsonlError::kMalformed) << bad;
  }
}

TEST(Sha256, StreamingEqualsOneShot) {
  std::mt19937 rng(5);
  std::string data(10000, '\0');
  for (auto& c : data) c = char(rng());
  for (int trial = 0; trial < 20; ++trial) {
    util::Sha256 h;
    size_t at = 0;
    while (at < data.size()) {
      size_t n = std::min<size_t>(rng() % 200, data.size() - at);
      h.update(std::string_view(data).substr(at, n));
      at += n;
    }
    EXPECT_EQ(h.hex_digest(), util::sha256_hex(data));
  }
}

TEST(DatasetWriter, MegatronShardsRoundTripAndThreadInvariance) {
  const Encoding& enc = testing::builtin("gpt2");
  auto docs = sample_docs(2000, 1);
  std::map<std::string, std::string> first;
  for (unsigned threads : {1u, 2u, 4u}) {
    testing::TempDir dir("dataset");
    TokenizeOptions o;
    o.output_prefix = (dir.path() / "out").string();
    o.threads = threads;
    o.batch_bytes = 500;
    o.shard_tokens = 3000;
    auto w = DatasetWriter::open(enc, "gpt2", {}, o);
    ASSERT_TRUE(w.ok()) << w.error();
    for (const auto& d : docs) ASSERT_TRUE(w->add_document(d).ok());
    auto s = w->finish();
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->documents, docs.size());
    auto files = output_files(dir.path());
    if (threads == 1) {
      first = files;
      std::vector<std::vector<Rank>> seqs;
      for (uint64_t i = 0; i < s->shards; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "out_%06llu", static_cast<unsigned long long>(i));
        for (auto& q : read_megatron((dir.path() / name).string())) seqs.push_back(std::move(q));
      }
      ASSERT_EQ(seqs.size(), docs.size());
      for (size_t i = 0; i < docs.size(); ++i) {
        auto ids = *enc.encode_ordinary(docs[i]);
        ids.push_back(*enc.eot_token());
        EXPECT_EQ(seqs[i], ids) << i;
      }
      EXPECT_GT(s->shards, 3u);
    } else {
      EXPECT_EQ(files, first) << threads << " threads";
    }
  }
}

TEST(DatasetWriter, ResumeAfterAbandonedWriterIsByteIdentical) {
  const Encoding& enc = testing::builtin("gpt2");
  auto docs = sample_docs(3000, 2);
  for (ShardFormat format : {ShardFormat::kMegatron, ShardFormat::kNanogpt, ShardFormat::kLlmc}) {
    testing::TempDir ref("dataset"), cut("dataset");
    TokenizeOptions o;
    o.format = format;
    o.shard_tokens = 2500;
    o.batch_bytes = 300;
    o.output_prefix = (ref.path() / "out").string();
    {
      auto w = DatasetWriter::open(enc, "gpt2", {}, o);
      ASSERT_TRUE(w.ok());
      for (const auto& d : docs) ASSERT_TRUE(w->add_document(d).ok());
      ASSERT_TRUE(w->finish().ok());
    }
    o.output_prefix = (cut.path() / "out").string();
    {
      auto w = DatasetWriter::open(enc, "gpt2", {}, o);
      ASSERT_TRUE(w.ok());
      for (size_t i = 0; i < docs.size() / 2; ++i) ASSERT_TRUE(w->add_document(docs[i]).ok());
      // Destroyed without finish(): what a crash leaves, minus the temporary files.
    }
    auto w = DatasetWriter::open(enc, "gpt2", {}, o);
    ASSERT_TRUE(w.ok()) << w.error();
    EXPECT_GT(w->skip_documents(), 0u);
    EXPECT_LT(w->skip_documents(), docs.size() / 2);
    for (const auto& d : docs) ASSERT_TRUE(w->add_document(d).ok());
    auto s = w->finish();
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_GT(s->resumed_documents, 0u);
    EXPECT_EQ(output_files(cut.path()), output_files(ref.path())) << int(format);
  }
}

TEST(TokenizeFiles, GzipAndZstdInputsEqualPlain) {
  const Encoding& enc = testing::builtin("gpt2");
  testing::TempDir dir("dataset");
  std::string jsonl;
  for (const auto& d : sample_docs(500, 3)) {
    std::string esc;
    for (char c : d) esc += c == '\n' ? std::string("\\n") : std::string(1, c);
    jsonl += "{\"text\": \"" + esc + "\"}\n";
  }
  spit(dir.path() / "a.jsonl", jsonl);
  // gzip made here with zlib's deflate (gzip wrapper: windowBits 15 + 16).
  {
    z_stream z{};
    ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, jsonl.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(jsonl.data());
    z.avail_in = unsigned(jsonl.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = unsigned(out.size());
    ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    spit(dir.path() / "a.jsonl.gz", out);
    spit(dir.path() / "t.jsonl.gz", out.substr(0, out.size() - 10));
  }
  {
    std::string out(ZSTD_compressBound(jsonl.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), jsonl.data(), jsonl.size(), 3);
    ASSERT_FALSE(ZSTD_isError(n));
    out.resize(n);
    spit(dir.path() / "a.jsonl.zst", out);
  }
  std::string plain;
  for (std::string name : {"a.jsonl", "a.jsonl.gz", "a.jsonl.zst"}) {
    TokenizeOptions o;
    o.output_prefix = (dir.path() / ("o_" + name)).string();
    std::vector<std::string> inputs = {(dir.path() / name).string()};
    auto s = tokenize_files(enc, "gpt2", inputs, o);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->documents, 500u);
    std::string bin = slurp(o.output_prefix + ".bin");
    if (plain.empty()) plain = bin;
    EXPECT_EQ(bin, plain) << name;
  }
  TokenizeOptions o;
  o.output_prefix = (dir.path() / "o_t").string();
  std::vector<std::string> inputs = {(dir.path() / "t.jsonl.gz").string()};
  auto s = tokenize_files(enc, "gpt2", inputs, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("t.jsonl.gz: truncated gzip stream at offset"), std::string::npos) << s.error();
}

// The manifest's sha256 of every input and shard is computed off the encoding thread (inputs re-read at an
// offset, shards hashed by their writer thread): it must still be the sha256 of the file's bytes, here on
// files of several 1 MiB blocks, compressed or not, a byte range, and for any thread count.
TEST(TokenizeFiles, ManifestHashesAreTheFilesSha256) {
  const Encoding& enc = testing::builtin("gpt2");
  testing::TempDir dir("dataset");
  std::string jsonl;
  for (auto d : sample_docs(4000, 9)) {
    while (d.size() < 900) d += " " + d.substr(0, 300);  // longer documents: several MiB in all
    std::string esc;
    for (char c : d) esc += c == '\n' ? std::string("\\n") : std::string(1, c);
    jsonl += "{\"text\": \"" + esc + "\"}\n";
  }
  ASSERT_GT(jsonl.size(), size_t(3) << 20);
  spit(dir.path() / "a.jsonl", jsonl);
  {
    std::string out(ZSTD_compressBound(jsonl.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), jsonl.data(), jsonl.size(), 1);
    ASSERT_FALSE(ZSTD_isError(n));
    out.resize(n);
    spit(dir.path() / "a.jsonl.zst", out);
  }
  auto check_manifest = [&](const std::string& prefix, const std::vector<std::string>& expected_inputs) {
    auto m = dataset::Manifest::parse(slurp(prefix + ".manifest.json"), prefix);
    ASSERT_TRUE(m.ok()) << m.error();
    ASSERT_EQ(m->inputs.size(), expected_inputs.size());
    for (size_t i = 0; i < expected_inputs.size(); ++i) {
      EXPECT_EQ(m->inputs[i].sha256, util::sha256_hex(expected_inputs[i])) << prefix << " input " << i;
    }
    ASSERT_FALSE(m->shards.empty());
    bool big = false;
    for (const auto& shard : m->shards) {
      for (const auto& f : shard.files) {
        const std::string body = slurp(fs::path(prefix).parent_path() / f.path);
        big = big || body.size() > (size_t(1) << 20);
        EXPECT_EQ(f.sha256, util::sha256_hex(body)) << f.path;
      }
    }
    EXPECT_TRUE(big) << "no shard spans more than one writer block";
  };
  for (unsigned threads : {1u, 2u}) {
    for (std::string name : {"a.jsonl", "a.jsonl.zst"}) {
      TokenizeOptions o;
      o.threads = threads;
      o.output_prefix = (dir.path() / ("o_" + name + std::to_string(threads))).string();
      std::vector<std::string> inputs = {(dir.path() / name).string()};
      auto s = tokenize_files(enc, "gpt2", inputs, o);
      ASSERT_TRUE(s.ok()) << s.error();
      check_manifest(o.output_prefix, {slurp(dir.path() / name)});
    }
  }
  // A cluster unit: a byte range from a line start past the first MiB to the end; its hash covers the range.
  const size_t begin = jsonl.find('\n', (size_t(1) << 20) + 12345) + 1;
  TokenizeOptions o;
  o.output_prefix = (dir.path() / "range").string();
  auto w =
      DatasetWriter::open(enc, "gpt2", {InputInfo{(dir.path() / "a.jsonl").string(), jsonl.size() - begin, ""}}, o);
  ASSERT_TRUE(w.ok()) << w.error();
  auto r = read_documents((dir.path() / "a.jsonl").string(), 0, 0, o, *w, begin, jsonl.size());
  ASSERT_TRUE(r.ok()) << r.error();
  auto s = w->finish();
  ASSERT_TRUE(s.ok()) << s.error();
  check_manifest(o.output_prefix, {jsonl.substr(begin)});
}

}  // namespace
}  // namespace tokenmill

namespace tokenmill {
namespace {

// The line number a text editor (and Python's enumerate over the file's lines) gives the byte at `offset`.
uint64_t line_of(const std::string& data, size_t offset) {
  return uint64_t(std::count(data.begin(), data.begin() + std::ptrdiff_t(offset), '\n')) + 1;
}

TEST(ReadDocuments, BadRecordInAByteRangeNamesTheFilesLine) {
  const Encoding& enc = testing::builtin("gpt2");
  testing::TempDir dir("dataset");
  std::string data;
  for (int i = 0; i < 60; ++i)
    data += i == 41 ? "{\"text\": oops}\n" : "{\"text\": \"doc " + std::to_string(i) + "\"}\n";
  const fs::path path = dir.path() / "a.jsonl";
  spit(path, data);
  const size_t bad = data.find("oops");
  // A cluster unit: from the start of line 31 to the end of the file (both at line starts).
  size_t begin = 0;
  for (int i = 0; i < 30; ++i) begin = data.find('\n', begin) + 1;
  TokenizeOptions o;
  o.output_prefix = (dir.path() / "out").string();
  auto w = DatasetWriter::open(enc, "gpt2", {}, o);
  ASSERT_TRUE(w.ok()) << w.error();
  auto r = read_documents(path.string(), 0, 0, o, *w, begin, data.size());
  ASSERT_FALSE(r.ok());
  const std::string where = path.string() + ":" + std::to_string(line_of(data, bad)) + ":";
  EXPECT_EQ(r.error().rfind(where, 0), 0u) << r.error() << " (expected it to start with " << where << ")";
}

TEST(DatasetWriter, RegexGivingUpInABatchNamesFileAndLine) {
  // A custom pattern PCRE2 gives up on for 40 'a' and a 'b' (a match-limit error, issue #11).
  EncodingSpec spec;
  spec.name = "custom";
  spec.pattern = "(a+)+$|.";
  std::vector<std::pair<std::string, Rank>> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(std::string(1, char(b)), Rank(b));
  spec.ranks = std::move(Vocabulary::from_ranks(std::move(ranks))).value();
  spec.special_tokens = {{"<|endoftext|>", 256}};
  auto enc = Encoding::create(std::move(spec));
  ASSERT_TRUE(enc.ok()) << enc.error();
  testing::TempDir dir("dataset");
  std::string data;
  for (int i = 0; i < 200; ++i) data += i == 123 ? std::string(40, 'a') + "b\n" : "line " + std::to_string(i) + "\n";
  const fs::path path = dir.path() / "a.txt";
  spit(path, data);
  const std::string where = path.string() + ":" + std::to_string(line_of(data, data.find("aaaa"))) + ":";
  for (unsigned threads : {1u, 2u}) {
    TokenizeOptions o;
    o.output_prefix = (dir.path() / ("out" + std::to_string(threads))).string();
    o.threads = threads;
    o.batch_bytes = 64;  // many batches: the failing one is encoded while later lines are read
    std::vector<std::string> inputs = {path.string()};
    auto r = tokenize_files(*enc, "custom", inputs, o);
    ASSERT_FALSE(r.ok()) << threads;
    EXPECT_EQ(r.error().rfind(where, 0), 0u) << r.error() << " (expected it to start with " << where << ")";
    EXPECT_NE(r.error().find("gave up"), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace tokenmill
