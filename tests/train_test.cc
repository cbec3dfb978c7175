#include "tokenmill/train.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <new>
#include <random>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "tokenmill/chunk_table.h"
#include "util/atomic_file.h"

// The test process's memory limit: one allocation above 1 GiB is refused (see ChunkTable tests).
#include "allocation_cap.h"
#include "temp_dir.h"
const bool kAllocationCapSet = (g_allocation_cap = std::size_t(1) << 30, true);

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

// The training rule written the slow, obvious way: recount every pair of every chunk at each step, take the
// highest count and the smallest (left, right) among equals, merge left to right without overlap. The
// trainer's incremental bookkeeping must give the same merges.
std::vector<std::pair<Rank, Rank>> naive_train(const std::map<std::string, uint64_t>& chunks, uint32_t vocab_size) {
  std::vector<std::pair<std::vector<Rank>, uint64_t>> words;
  for (const auto& [c, n] : chunks) words.push_back({std::vector<Rank>(c.begin(), c.end()), n});
  for (auto& w : words) {
    for (auto& id : w.first) id &= 0xFF;
  }
  std::vector<std::pair<Rank, Rank>> merges;
  for (Rank id = 256; id < vocab_size; ++id) {
    std::map<std::pair<Rank, Rank>, uint64_t> counts;
    for (const auto& [ids, n] : words) {
      for (size_t i = 0; i + 1 < ids.size(); ++i) counts[{ids[i], ids[i + 1]}] += n;
    }
    if (counts.empty()) break;
    auto best = counts.begin();  // std::map iterates pairs in ascending order: first max wins ties
    for (auto it = counts.begin(); it != counts.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    merges.push_back(best->first);
    for (auto& [ids, n] : words) {
      std::vector<Rank> out;
      for (size_t i = 0; i < ids.size();) {
        if (i + 1 < ids.size() && ids[i] == best->first.first && ids[i + 1] == best->first.second) {
          out.push_back(id);
          i += 2;
        } else {
          out.push_back(ids[i++]);
        }
      }
      ids = std::move(out);
    }
  }
  return merges;
}

ChunkCounter counter_of(const std::map<std::string, uint64_t>& chunks) {
  auto c = ChunkCounter::create(kGpt4Pattern);
  EXPECT_TRUE(c.ok());
  for (const auto& [chunk, n] : chunks) c->add_chunk(chunk, n);
  return std::move(c).value();
}

std::vector<std::pair<Rank, Rank>> train_merges(const ChunkCounter& c, uint32_t vocab_size) {
  auto r = train_bpe(c, {.vocab_size = vocab_size});
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r->merges : std::vector<std::pair<Rank, Rank>>{};
}

TEST(Train, MatchesNaiveRuleOnRandomChunks) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 60; ++round) {
    // Small alphabets make long runs ("aaaa": overlapping pairs), many ties and merges of merged ids.
    const int alphabet = 2 + int(rng() % 5);
    std::map<std::string, uint64_t> chunks;
    const int n = 1 + int(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::string s;
      const int len = 1 + int(rng() % (round % 3 == 0 ? 60 : 12));
      for (int j = 0; j < len; ++j) s += char('a' + rng() % alphabet);
      chunks[s] += 1 + rng() % 5;
    }
    const uint32_t vocab = 256 + uint32_t(rng() % 80);
    EXPECT_EQ(train_merges(counter_of(chunks), vocab), naive_train(chunks, vocab)) << "round " << round;
  }
}

TEST(Train, TiesGoToTheSmallestPair) {
  // Every pair occurs once: merges come out in (left, right) order.
  auto merges = train_merges(counter_of({{"dc", 1}, {"ba", 1}, {"ef", 1}}), 259);
  std::vector<std::pair<Rank, Rank>> want = {{'b', 'a'}, {'d', 'c'}, {'e', 'f'}};
  EXPECT_EQ(merges, want);
}

TEST(Train, OverlappingPairsMergeLeftToRight) {
  // "aaa": the pair (a, a) counts twice, but only one merge fits: [aa, a]. Then (aa, a) wins.
  auto merges = train_merges(counter_of({{"aaa", 1}}), 300);
  std::vector<std::pair<Rank, Rank>> want = {{'a', 'a'}, {256, 'a'}};
  EXPECT_EQ(merges, want);
}

TEST(Train, CountsAre64Bit) {
  // Past 2^32 occurrences (in rustbpe's i32 this count would wrap to 5): the heavier pair still wins.
  const uint64_t big = (uint64_t(1) << 32) + 5;
  auto merges = train_merges(counter_of({{"xy", big}, {"ab", 1000}}), 257);
  std::vector<std::pair<Rank, Rank>> want = {{'x', 'y'}};
  EXPECT_EQ(merges, want);
}

TEST(Train, StopsWhenNoPairIsLeft) {
  auto r = train_bpe(counter_of({{"ab", 3}, {"c", 9}}), {.vocab_size = 1000});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->merges.size(), 1u);
  EXPECT_EQ(r->merges_requested, 744u);
  EXPECT_EQ(r->model.ranks.size(), 257u);
  EXPECT_EQ(r->model.ranks.token_bytes(256), "ab");
}

TEST(Train, ChunksNeverCrossDocuments) {
  auto c = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->add_document("hello").ok());
  EXPECT_TRUE(c->add_document("world").ok());
  EXPECT_EQ(c->documents(), 2u);
  EXPECT_EQ(c->total_chunks(), 2u);
  ASSERT_EQ(c->distinct_chunks(), 2u);
  EXPECT_EQ(c->chunk(0), "hello");
  EXPECT_EQ(c->chunk(1), "world");
  EXPECT_TRUE(c->add_document("hello world").ok());
  EXPECT_EQ(c->distinct_chunks(), 3u);  // "hello" again (count 2), " world" new
  EXPECT_EQ(c->count(0), 2u);
}

TEST(Train, SpecialTokensFollowTheRanks) {
  auto r = train_bpe(counter_of({{"abab", 2}}), {.vocab_size = 258, .special_tokens = {"<|bos|>", "<|eos|>"}});
  ASSERT_TRUE(r.ok()) << r.error();
  std::vector<std::pair<std::string, Rank>> want = {{"<|bos|>", 258}, {"<|eos|>", 259}};
  EXPECT_EQ(r->model.special_tokens, want);
  auto enc = r->model.encoding("t");
  ASSERT_TRUE(enc.ok()) << enc.error();
  auto ids = enc->encode("<|bos|>abab", SpecialSet::all());
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<Rank>{258, 257}));
}

TEST(Train, Errors) {
  auto c = counter_of({{"ab", 1}});
  for (uint64_t v : {uint64_t(0), uint64_t(255), (uint64_t(1) << 31) + 1}) {
    auto r = train_bpe(c, {.vocab_size = v});
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().find("vocab_size"), std::string::npos);
  }
  auto empty = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->add_document("").ok());
  auto r = train_bpe(*empty, {.vocab_size = 300});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("empty corpus"), std::string::npos);
  EXPECT_FALSE(train_bpe(c, {.vocab_size = 300, .special_tokens = {"x", "x"}}).ok());
  EXPECT_FALSE(train_bpe(c, {.vocab_size = 300, .special_tokens = {""}}).ok());
  auto bad = ChunkCounter::create("(unclosed");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

std::vector<std::string> chunks_of(const ChunkCounter& c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < c.distinct_chunks(); ++i) out.emplace_back(c.chunk(i));
  return out;
}

TEST(CorpusReader, LinesAreWhatPythonSees) {
  testing::TempDir dir("train");
  // Universal newlines: \r\n and a lone \r end a line and read as \n; the last line keeps no newline.
  std::string path = dir.file("a.txt", "x\r\ny\rz\nw");
  auto c = ChunkCounter::create(R"([^\n]+|\n)");
  ASSERT_TRUE(c.ok());
  CorpusReader reader(*c, {});
  ASSERT_TRUE(reader.add_file(path).ok());
  EXPECT_EQ(reader.documents(), 4u);
  EXPECT_EQ(chunks_of(*c), (std::vector<std::string>{"x", "\n", "y", "z", "w"}));
  EXPECT_EQ(c->count(1), 3u);
}

TEST(CorpusReader, InvalidUtf8IsReplaced) {
  testing::TempDir dir("train");
  std::string path = dir.file("bad.txt", "a\xff" "b\n");
  auto c = ChunkCounter::create(R"([^\n]+|\n)");
  ASSERT_TRUE(c.ok());
  CorpusReader reader(*c, {});
  ASSERT_TRUE(reader.add_file(path).ok());
  EXPECT_EQ(chunks_of(*c)[0], "a\xEF\xBF\xBD" "b");
}

TEST(CorpusReader, LongLinesAcrossBlocks) {
  testing::TempDir dir("train");
  std::string big(9 << 20, 'a');  // longer than the 4 MB read block
  std::string path = dir.file("big.txt", "b\n" + big + "\nc");
  auto c = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(c.ok());
  CorpusReader reader(*c, {});
  ASSERT_TRUE(reader.add_file(path).ok());
  EXPECT_EQ(reader.documents(), 3u);
  EXPECT_EQ(reader.bytes_read(), big.size() + 4);
  EXPECT_EQ(chunks_of(*c), (std::vector<std::string>{"b", "\n", big, "c"}));
}

TEST(CorpusReader, DocCapAndMaxChars) {
  testing::TempDir dir("train");
  std::string path = dir.file("d.txt", "\xC3\xA9\xC3\xA9\xC3\xA9\n" "abcdef\n" "ghi\n" "jkl\n");
  auto c = ChunkCounter::create(R"([^\n]+|\n)");
  ASSERT_TRUE(c.ok());
  // Two characters per document (é is one character); stop after the document that passes 3 characters.
  CorpusReader reader(*c, {.doc_cap = 2, .max_chars = 3});
  ASSERT_TRUE(reader.add_file(path).ok());
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.documents(), 2u);
  EXPECT_EQ(chunks_of(*c), (std::vector<std::string>{"\xC3\xA9\xC3\xA9", "ab"}));
}

TEST(CorpusReader, JsonLinesErrorsNameTheLine) {
  testing::TempDir dir("train");
  auto c = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(c.ok());
  CorpusReader reader(*c, {.format = InputFormat::kJsonl});
  std::string good = dir.file("g.jsonl", "{\"text\": \"a\\nb\"}\n\n{\"text\": \"c\", \"id\": 1}\n");
  ASSERT_TRUE(reader.add_file(good).ok());
  EXPECT_EQ(reader.documents(), 2u);
  std::string bad = dir.file("b.jsonl", "{\"text\": \"a\"}\n{\"text\": \n");
  Status s = reader.add_file(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(bad + ":2:"), std::string::npos) << s.message();
  std::string missing = dir.file("m.jsonl", "{\"body\": \"a\"}\n");
  s = reader.add_file(missing);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":1: no field \"text\""), std::string::npos) << s.message();
  s = reader.add_file((dir.path() / "nope.txt").string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_NE(s.message().find("nope.txt"), std::string::npos);
}

TEST(Model, FileRoundTripAndErrors) {
  auto r = train_bpe(counter_of({{"hello", 3}, {" world", 2}}), {.vocab_size = 262, .special_tokens = {"<|x y|>"}});
  ASSERT_TRUE(r.ok()) << r.error();
  std::string text = r->model.to_model_file();
  EXPECT_EQ(text.rfind("tokenmill-model 2\npattern ", 0), 0u);
  auto back = BpeModel::parse_model_file(text, "m.model");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->pattern, std::string(kGpt4Pattern));
  EXPECT_EQ(back->special_tokens, r->model.special_tokens);
  EXPECT_EQ(back->ranks.to_tiktoken(), r->model.ranks.to_tiktoken());

  auto v3 = BpeModel::parse_model_file("tokenmill-model 3\n", "m.model");
  ASSERT_FALSE(v3.ok());
  EXPECT_NE(v3.error().find("version"), std::string::npos);
  EXPECT_FALSE(BpeModel::parse_model_file("hello\n", "m.model").ok());
  // A truncated file (fewer rank lines than announced) is refused.
  auto cut = BpeModel::parse_model_file(text.substr(0, text.size() - 10), "m.model");
  ASSERT_FALSE(cut.ok());
}

TEST(Model, WritesAtomically) {
  testing::TempDir dir("train");
  auto r = train_bpe(counter_of({{"hello", 3}}), {.vocab_size = 260});
  ASSERT_TRUE(r.ok());
  const std::string path = (dir.path() / "m.model").string();
  ASSERT_TRUE(r->model.write_model_file(path).ok());
  auto loaded = BpeModel::load_model_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->ranks.size(), 260u);
  Status s = r->model.write_model_file((dir.path() / "missing" / "m.model").string());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  for (const auto& entry : fs::directory_iterator(dir.path())) EXPECT_EQ(entry.path().filename(), "m.model");
}

// Every single-bit flip of a model file is refused (the sha256 line), where version 1 loaded many of them
// as a different vocabulary.
TEST(Model, EveryBitFlipIsRefused) {
  auto r = train_bpe(counter_of({{"hello", 3}, {" world", 2}}), {.vocab_size = 264, .special_tokens = {"<|x|>"}});
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string text = r->model.to_model_file();
  ASSERT_TRUE(BpeModel::parse_model_file(text, "m.model").ok());
  size_t accepted = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = text;
      flipped[i] = char(flipped[i] ^ (1 << bit));
      auto m = BpeModel::parse_model_file(flipped, "m.model");
      if (m.ok()) ++accepted;
    }
  }
  EXPECT_EQ(accepted, 0u);
  auto bad = BpeModel::parse_model_file(text.substr(0, text.size() - 3) + "00\n", "m.model");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("checksum"), std::string::npos) << bad.error();
}

TEST(Model, Version1FilesStillLoad) {
  auto r = train_bpe(counter_of({{"hello", 3}}), {.vocab_size = 260});
  ASSERT_TRUE(r.ok());
  std::string v1 = "tokenmill-model 1\npattern " + base64_encode(r->model.pattern) + "\nranks " +
                   std::to_string(r->model.ranks.size()) + "\n" + r->model.ranks.to_tiktoken();
  auto m = BpeModel::parse_model_file(v1, "old.model");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->ranks.to_tiktoken(), r->model.ranks.to_tiktoken());
}

TEST(Model, InvalidUtf8PatternAndNoRankSpecialIdAreRefusedByLine) {
  std::string ranks;
  for (int b = 0; b < 256; ++b) ranks += base64_encode(std::string(1, char(b))) + " " + std::to_string(b) + "\n";
  auto bad_pattern = BpeModel::parse_model_file(
      "tokenmill-model 1\npattern " + base64_encode("\xff\xfe(") + "\nranks 256\n" + ranks, "p.model");
  ASSERT_FALSE(bad_pattern.ok());
  EXPECT_NE(bad_pattern.error().find("p.model:2: pattern is not valid UTF-8"), std::string::npos)
      << bad_pattern.error();
  auto bad_id = BpeModel::parse_model_file("tokenmill-model 1\npattern " + base64_encode("a") + "\nspecial " +
                                               base64_encode("<|x|>") + " 4294967295\nranks 256\n" + ranks,
                                           "s.model");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().find("s.model:3:"), std::string::npos) << bad_id.error();
}

TEST(Model, DevZeroIsAnErrorNotAnException) {
  auto m = BpeModel::load_model_file("/dev/zero");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("/dev/zero"), std::string::npos) << m.error();
  testing::TempDir dir("train");
  auto d = BpeModel::load_model_file(dir.path().string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("is a directory"), std::string::npos) << d.error();
}

TEST(CorpusReader, JsonLinesDuplicateKeyTakesTheLastValueAsPythonDoes) {
  testing::TempDir dir("train");
  auto c = ChunkCounter::create(R"(\S+|\s+)");
  ASSERT_TRUE(c.ok());
  CorpusReader reader(*c, {.format = InputFormat::kJsonl});
  // json.loads('{"text":"a","text":"b"}') == {'text': 'b'}; other keys in between do not matter.
  ASSERT_TRUE(reader.add_file(dir.file("d.jsonl", "{\"text\":\"first\",\"id\":1,\"text\":\"last\"}\n")).ok());
  EXPECT_EQ(chunks_of(*c), std::vector<std::string>{"last"});
}

TEST(CorpusReader, RegexMatchErrorIsAnErrorNamingTheLine) {
  testing::TempDir dir("train");
  auto c = ChunkCounter::create("(a+)+$|.");
  ASSERT_TRUE(c.ok());
  for (unsigned threads : {1u, 2u}) {
    CorpusReader reader(*c, {.threads = threads});
    Status s = reader.add_file(dir.file("a.txt", "ok\n" + std::string(40, 'a') + "b\n"));
    ASSERT_FALSE(s.ok()) << threads;
    EXPECT_NE(s.message().find("a.txt"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("gave up"), std::string::npos) << s.message();
  }
}

// A damaged entry length (up to 4 GB) in a short table ends in "truncated", without allocating it first.
// This test binary refuses any single allocation above 1 GiB (tests/allocation_cap.h): an address-space
// rlimit would do the same but does not work under AddressSanitizer, which reserves terabytes up front.
TEST(ChunkTable, HugeEntryLengthIsTruncationNotAnAllocation) {
  testing::TempDir dir("train");
  auto c = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->add_document("abc abc").ok());
  const std::string path = (dir.path() / "t.chunks").string();
  ASSERT_TRUE(write_chunk_table(*c, path).ok());
  std::string data = testing::file_contents(path);
  uint32_t plen;
  std::memcpy(&plen, data.data() + 40, 4);
  const uint32_t huge = 0xF0000000u;
  std::memcpy(data.data() + 44 + plen, &huge, 4);
  const std::string cut = dir.file("cut.chunks", data.substr(0, std::min<size_t>(data.size(), 197)));
  auto r = read_chunk_table(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("truncated"), std::string::npos) << r.error();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Threads of one process saving to one path: each write is whole (unique temp names), never a mix.
TEST(AtomicWrite, ThreadsWritingOnePathNeverMixTheirFiles) {
  testing::TempDir dir("train");
  const std::string path = (dir.path() / "out.bin").string();
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        if (!write_file_atomically(path, std::string(1 << 18, char('a' + t))).ok()) ++failures;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const std::string got = testing::file_contents(path);
    ASSERT_EQ(got.size(), size_t(1) << 18);
    EXPECT_EQ(got, std::string(got.size(), got[0])) << "trial " << trial;
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.bin"});
  }
}

TEST(AtomicWrite, FollowsSymlinksAndWritesThroughFifos) {
  testing::TempDir dir("train");
  const std::string target = dir.file("target.txt", "old");
  const fs::path link = dir.path() / "link.txt";
  fs::create_symlink(target, link);
  ASSERT_TRUE(write_file_atomically(link.string(), "new").ok());
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(testing::file_contents(target), "new");
  const std::string fifo = (dir.path() / "pipe").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The read end is opened first without blocking, so the writer can open the FIFO, and the test cannot
  // hang if the write wrongly went elsewhere. The data fits the pipe buffer.
  const int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(rd, 0);
  ASSERT_TRUE(write_file_atomically(fifo, "through the pipe").ok());
  char buf[64];
  const ssize_t n = ::read(rd, buf, sizeof buf);
  ::close(rd);
  EXPECT_EQ(std::string(buf, size_t(std::max<ssize_t>(n, 0))), "through the pipe");
  EXPECT_TRUE(fs::is_fifo(fifo));
  // A private /dev/full (char 1:7), so a wrong rename would replace this node and not the system's;
  // without the right to make one (not root), the system's, which then cannot be replaced either.
  std::string full = (dir.path() / "full").string();
  if (mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) full = "/dev/full";
  Status s = write_file_atomically(full, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
  EXPECT_TRUE(fs::is_character_file(full));
}

TEST(AtomicWrite, RemovesStaleTempFilesOfDeadProcesses) {
  testing::TempDir dir("train");
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string d = std::to_string(dead), me = std::to_string(getpid());
  dir.file("out.txt.tmp." + d, "stale");
  dir.file("out.txt.tmp." + d + ".AbC123", "stale");
  dir.file("out.txt.tmp." + me + ".Xyz789", "a live writer's");
  dir.file("other.txt.tmp." + d, "another file's");
  ASSERT_TRUE(write_file_atomically((dir.path() / "out.txt").string(), "x").ok());
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"other.txt.tmp." + d, "out.txt", "out.txt.tmp." + me + ".Xyz789"}));
}

TEST(AtomicWrite, SeveralFilesAllOrNone) {
  testing::TempDir dir("train");
  const std::string a = (dir.path() / "a.model").string(), b = (dir.path() / "no" / "b.json").string();
  std::vector<std::pair<std::string, std::string>> files = {{a, "model"}, {b, "json"}};
  Status s = write_files_atomically(files);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("b.json"), std::string::npos) << s.message();
  EXPECT_TRUE(names_in(dir.path()).empty());
  files[1].first = (dir.path() / "b.json").string();
  ASSERT_TRUE(write_files_atomically(files).ok());
  EXPECT_EQ(testing::file_contents(a), "model");
  EXPECT_EQ(testing::file_contents(files[1].first), "json");
}

}  // namespace
}  // namespace tokenmill
