// util::DirectWriter: the file holds every appended byte in order, whichever way each block reached it.
#include "util/direct_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "temp_dir.h"

namespace tokenmill::util {
namespace {

namespace fs = std::filesystem;

// Appends `total` random bytes in pieces of random sizes (a few bytes to more than a block, so pieces
// straddle block ends) and returns them.
std::string append_random(DirectWriter& w, size_t total, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string all(total, '\0');
  for (char& c : all) c = char(rng());
  std::uniform_int_distribution<size_t> piece(1, DirectWriter::kBlock + 4097);
  for (size_t at = 0; at < total;) {
    const size_t n = std::min(total - at, piece(rng) >> (rng() % 12));
    w.append(all.data() + at, n);
    at += n;
  }
  return all;
}

bool has_o_direct(int fd) {
#if defined(O_DIRECT)
  return (::fcntl(fd, F_GETFL) & O_DIRECT) != 0;
#else
  (void)fd;
  return false;
#endif
}

// Sizes around the block size and several blocks (the two buffers in turn), in a file on disk.
TEST(DirectWriter, FileHoldsEveryByteInOrder) {
  tokenmill::testing::TempDir dir("direct_writer");
  const size_t block = DirectWriter::kBlock;
  int seed = 0;
  for (size_t total : {size_t(0), size_t(1), size_t(4095), block - 1, block, block + 1, 2 * block, 3 * block + 12345,
                       7 * block + block / 2}) {
    const fs::path path = dir.path() / ("out" + std::to_string(total));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    std::string expected;
    {
      DirectWriter w(fd);
      expected = append_random(w, total, uint32_t(++seed));
      EXPECT_EQ(w.finish(), 0) << total;
      // The caller gets its descriptor back as it gave it: no O_DIRECT, offset at the end.
      EXPECT_FALSE(has_o_direct(fd));
      EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), off_t(total));
    }
    ::close(fd);
    EXPECT_EQ(tokenmill::testing::file_contents(path), expected) << total;
  }
}

// Written after a header that leaves the offset unaligned (no O_DIRECT then), and after an aligned one.
TEST(DirectWriter, StartsAtTheDescriptorsOffset) {
  tokenmill::testing::TempDir dir("direct_writer");
  for (size_t header : {size_t(100), size_t(8192)}) {
    const fs::path path = dir.path() / ("out" + std::to_string(header));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    const std::string head(header, 'h');
    ASSERT_EQ(::write(fd, head.data(), head.size()), ssize_t(head.size()));
    std::string body;
    {
      DirectWriter w(fd);
      body = append_random(w, 3 * DirectWriter::kBlock + 7, uint32_t(header));
      EXPECT_EQ(w.finish(), 0);
    }
    ::close(fd);
    EXPECT_EQ(tokenmill::testing::file_contents(path), head + body) << header;
  }
}

// A pipe takes no O_DIRECT and cannot seek: every block goes through write() as it is, in order.
TEST(DirectWriter, PipeGetsEveryByte) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, size_t(n));
  });
  std::string expected;
  {
    DirectWriter w(fds[1]);
    expected = append_random(w, 5 * DirectWriter::kBlock + 999, 7);
    EXPECT_EQ(w.finish(), 0);
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(got, expected);
}

// A descriptor that cannot be written: finish() reports the errno of the failed write (from the thread's
// blocks and from the tail alike).
TEST(DirectWriter, FailedWriteIsReportedByFinish) {
  tokenmill::testing::TempDir dir("direct_writer");
  const std::string path = dir.file("read_only", "");
  for (size_t total : {size_t(10), 4 * DirectWriter::kBlock + 10}) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    {
      DirectWriter w(fd);
      append_random(w, total, 3);
      EXPECT_EQ(w.finish(), EBADF) << total;
    }
    ::close(fd);
  }
}

// Without finish() the tail is not written, and destruction waits for the block in flight (no write after
// the writer is gone: the descriptor is closed right after).
TEST(DirectWriter, DestroyedWithoutFinishWritesOnlyWholeBlocks) {
  tokenmill::testing::TempDir dir("direct_writer");
  const fs::path path = dir.path() / "out";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  std::string expected;
  {
    DirectWriter w(fd);
    expected = append_random(w, 2 * DirectWriter::kBlock + 5, 11);
  }
  EXPECT_FALSE(has_o_direct(fd));
  ::close(fd);
  EXPECT_EQ(tokenmill::testing::file_contents(path), expected.substr(0, 2 * DirectWriter::kBlock));
}

}  // namespace
}  // namespace tokenmill::util
