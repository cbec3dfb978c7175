// Chunk tables against the layout documented in chunk_table.h: the test assembles tables byte by byte from
// that description (with its own FNV-1a 64), so the writer, the reader and every check the reader promises
// are held to the documented format, not to each other.
#include "tokenmill/chunk_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPattern = R"( ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+)";

struct Table {
  std::string magic = "TMCHUNKS";
  uint32_t version = 1, flags = 0;
  uint64_t documents = 0, total = 0;
  std::optional<uint64_t> entries_field;  // default: entries.size()
  std::string pattern = std::string(kPattern);
  std::vector<std::pair<std::string, uint64_t>> entries;
  std::optional<uint64_t> checksum;  // default: the right one
  std::string trailer;               // bytes after the checksum
};

void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xFF);
}
void put64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += char((v >> (8 * i)) & 0xFF);
}
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis and prime (Fowler, Noll, Vo)
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string bytes_of(const Table& t) {
  std::string s = t.magic;
  put32(s, t.version);
  put32(s, t.flags);
  put64(s, t.documents);
  put64(s, t.total);
  put64(s, t.entries_field.value_or(t.entries.size()));
  put32(s, uint32_t(t.pattern.size()));
  s += t.pattern;
  for (const auto& [chunk, count] : t.entries) {
    put32(s, uint32_t(chunk.size()));
    s += chunk;
    put64(s, count);
  }
  put64(s, t.checksum.value_or(fnv1a64(s)));
  return s + t.trailer;
}

Table sample() {
  Table t;
  t.documents = 3;
  t.entries = {{" a", 2}, {" ab", 5}, {"b", 1}, {"\xc3\xa9t\xc3\xa9", 7}};  // sorted bytewise
  t.total = 15;
  return t;
}

class ChunkTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tokenmill_chunk_table_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

std::map<std::string, uint64_t> counts_of(const ChunkCounter& c) {
  std::map<std::string, uint64_t> m;
  for (size_t i = 0; i < c.distinct_chunks(); ++i) m[std::string(c.chunk(i))] = c.count(i);
  return m;
}

TEST_F(ChunkTableTest, WriterMakesTheDocumentedBytes) {
  auto counter = ChunkCounter::create(kPattern);
  ASSERT_TRUE(counter.ok()) << counter.error();
  // Added out of order and in pieces: the file is canonical (sorted, summed) whatever the order.
  counter->add_chunk("\xc3\xa9t\xc3\xa9", 7);
  counter->add_chunk("b", 1);
  counter->add_chunk(" ab", 2);
  counter->add_chunk(" a", 2);
  counter->add_chunk(" ab", 3);
  counter->add_documents(3);
  std::string path = (dir_ / "w.chunks").string();
  ASSERT_TRUE(write_chunk_table(*counter, path).ok());
  EXPECT_EQ(slurp(path), bytes_of(sample()));
}

TEST_F(ChunkTableTest, ReaderTakesTheDocumentedBytes) {
  auto counter = read_chunk_table(write("r.chunks", bytes_of(sample())));
  ASSERT_TRUE(counter.ok()) << counter.error();
  EXPECT_EQ(counter->pattern(), kPattern);
  EXPECT_EQ(counter->documents(), 3u);
  EXPECT_EQ(counter->total_chunks(), 15u);
  std::map<std::string, uint64_t> want;
  for (const auto& [c, n] : sample().entries) want[c] = n;
  EXPECT_EQ(counts_of(*counter), want);
}

TEST_F(ChunkTableTest, AddSumsCountsAndRefusesAnotherPattern) {
  auto counter = read_chunk_table(write("a.chunks", bytes_of(sample())));
  ASSERT_TRUE(counter.ok()) << counter.error();
  Table other;
  other.documents = 1;
  other.entries = {{" ab", 10}, {"zz", 4}};
  other.total = 14;
  ASSERT_TRUE(add_chunk_table(write("b.chunks", bytes_of(other)), *counter).ok());
  EXPECT_EQ(counter->documents(), 4u);
  EXPECT_EQ(counter->total_chunks(), 29u);
  std::map<std::string, uint64_t> want = {{" a", 2}, {" ab", 15}, {"b", 1}, {"\xc3\xa9t\xc3\xa9", 7}, {"zz", 4}};
  EXPECT_EQ(counts_of(*counter), want);

  other.pattern = "\\s+|\\S+";
  std::string path = write("c.chunks", bytes_of(other));
  Status s = add_chunk_table(path, *counter);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.message();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("another split pattern"), std::string::npos) << s.message();
}

// Each damaged table is refused with the check that caught it named in the message.
TEST_F(ChunkTableTest, EveryCheckNamesWhatFailed) {
  std::vector<std::pair<Table, std::string>> cases;
  auto with = [&](auto edit, std::string says) {
    Table t = sample();
    edit(t);
    cases.emplace_back(std::move(t), std::move(says));
  };
  with([](Table& t) { t.magic = "TMCHUNKX"; }, "bad magic");
  with([](Table& t) { t.version = 2; }, "unsupported chunk table version 2");
  with([](Table& t) { t.flags = 4; }, "unknown flags 4");
  with([](Table& t) { std::swap(t.entries[0], t.entries[1]); }, "entry 1 is out of order");
  with([](Table& t) { t.entries[1].first = t.entries[0].first; }, "entry 1 is out of order");
  with([](Table& t) { t.entries[2].second = 0; }, "entry 2 has count 0");
  with([](Table& t) { t.entries[3].first.clear(); }, "entry 3 is empty");
  with([](Table& t) { t.checksum = 12345; }, "checksum mismatch");
  with([](Table& t) { t.trailer = "x"; }, "data after the checksum");
  with([](Table& t) { t.total = 16; }, "counts add up to 15, the header says 16");
  with([](Table& t) { t.entries_field = 5; }, "truncated chunk table");
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string path = write("bad" + std::to_string(i) + ".chunks", bytes_of(cases[i].first));
    auto r = read_chunk_table(path);
    ASSERT_FALSE(r.ok()) << "accepted case " << i << " (" << cases[i].second << ")";
    EXPECT_EQ(r.status().code(), ErrorCode::kParseError) << r.error();
    EXPECT_NE(r.error().find(cases[i].second), std::string::npos) << "case " << i << ": " << r.error();
    EXPECT_NE(r.error().find(path), std::string::npos) << r.error();
  }
  // Cut anywhere: always refused, never read as a smaller table.
  const std::string whole = bytes_of(sample());
  for (size_t n = 0; n < whole.size(); n += 7) {
    auto r = read_chunk_table(write("cut.chunks", whole.substr(0, n)));
    EXPECT_FALSE(r.ok()) << "a table cut to " << n << " bytes was accepted";
  }
  auto missing = read_chunk_table((dir_ / "none.chunks").string());
  EXPECT_EQ(missing.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace tokenmill
