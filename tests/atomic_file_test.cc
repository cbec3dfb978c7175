// util::AtomicFile: the file appears at its path whole, on commit, or not at all.
#include "util/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace tokenmill::util {
namespace {

namespace fs = std::filesystem;

// Bytes written in pieces of odd sizes: the committed file is every byte in order, and nothing is at the path
// before the commit.
TEST(AtomicFile, CommitPutsEveryByteInPlace) {
  tokenmill::testing::TempDir dir("atomic_file");
  const fs::path path = dir.path() / "ids.bin";
  AtomicFile f(path.string());
  ASSERT_TRUE(f.open().ok());
  std::string expected;
  for (int piece = 0; piece < 40; ++piece) {
    std::string bytes(size_t(piece) * 7919 + 13, char('a' + piece % 26));
    bytes[0] = char(piece);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f.file()), bytes.size());
    expected += bytes;
    EXPECT_FALSE(fs::exists(path));
  }
  ASSERT_TRUE(f.commit().ok());
  EXPECT_EQ(tokenmill::testing::file_contents(path), expected);
}

TEST(AtomicFile, NotCommittedLeavesNothing) {
  tokenmill::testing::TempDir dir("atomic_file");
  const fs::path path = dir.path() / "partial.bin";
  {
    AtomicFile f(path.string());
    ASSERT_TRUE(f.open().ok());
    std::string bytes(1 << 20, 'x');
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f.file()), bytes.size());
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.path()));  // the temporary is gone too
}

}  // namespace
}  // namespace tokenmill::util
