// read_file: the bytes of a file, or a Status naming it; never a short string, never an exception.
#include "tokenmill/file_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

TEST(ReadFile, GivesBackEveryByteWritten) {
  testing::TempDir dir("file_io");
  std::string bytes;
  for (int i = 0; i < 3 * 65536 + 7; ++i) bytes += char(i * 131 % 256);  // NULs, 0xFF, more than one read
  const std::string path = (dir.path() / "bytes.bin").string();
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  auto r = read_file(path);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, bytes);
  auto limited = read_file(path, bytes.size());  // a limit equal to the size is allowed
  ASSERT_TRUE(limited.ok()) << limited.error();
  EXPECT_EQ(*limited, bytes);
}

TEST(ReadFile, FailuresAreErrorsNamingTheFile) {
  testing::TempDir dir("file_io");
  const std::string missing = (dir.path() / "missing.txt").string();
  auto r = read_file(missing, kNoSizeLimit, "model file");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find(missing), std::string::npos) << r.error();

  auto d = read_file(dir.path().string());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find(dir.path().string()), std::string::npos) << d.error();

  const std::string big = (dir.path() / "big.txt").string();
  std::ofstream(big) << std::string(1000, 'x');
  auto b = read_file(big, 999, "rank file");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find(big), std::string::npos) << b.error();
}

TEST(ReadFile, EndlessInputStopsAtTheLimit) {
  // /dev/zero never ends: the limit, not memory, must stop the read.
  auto r = read_file("/dev/zero", uint64_t(1) << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/dev/zero"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace tokenmill
