#include "util/direct_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>

namespace tokenmill::util {

namespace {
// Buffers and file offsets are aligned to this for O_DIRECT: the largest logical block size in common use.
// A device that needs more refuses the write with EINVAL, and the writer falls back to the page cache.
constexpr size_t kAlign = 4096;
static_assert(DirectWriter::kBlock % kAlign == 0);
}  // namespace

void DirectWriter::FreeAligned::operator()(char* p) const { std::free(p); }

DirectWriter::DirectWriter(int fd, Sha256* digest) : fd_(fd), digest_(digest) {
#if defined(O_DIRECT)
  const off_t at = ::lseek(fd_, 0, SEEK_CUR);  // fails on a pipe: no O_DIRECT there
  const int flags = ::fcntl(fd_, F_GETFL);
  if (at >= 0 && size_t(at) % kAlign == 0 && flags >= 0) direct_ = ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
#endif
}

DirectWriter::~DirectWriter() { stop_thread(); }

void DirectWriter::stop_thread() {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return pending_ == nullptr; });
    quit_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The thread is gone: error_ and direct_ are this thread's alone from here on.
  stop_direct();
}

void DirectWriter::append(const char* data, size_t size) {
  while (size > 0) {
    if (!buffers_[current_]) {
      buffers_[current_].reset(static_cast<char*>(std::aligned_alloc(kAlign, kBlock)));
      if (!buffers_[current_]) throw std::bad_alloc();
    }
    const size_t n = std::min(size, kBlock - fill_);
    std::memcpy(buffers_[current_].get() + fill_, data, n);
    fill_ += n;
    data += n;
    size -= n;
    if (fill_ == kBlock) hand_off();
  }
}

void DirectWriter::hand_off() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return pending_ == nullptr; });
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread(&DirectWriter::run, this);
    } catch (const std::system_error&) {
      // No thread to be had: this block is written here, and so is every later one (the thread stays absent).
    }
  }
  if (thread_.joinable()) {
    pending_ = buffers_[current_].get();
    lock.unlock();
    changed_.notify_all();
  } else if (error_ == 0) {
    error_ = hash_and_write(buffers_[current_].get(), kBlock);
  }
  current_ ^= 1;
  fill_ = 0;
}

void DirectWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return pending_ != nullptr || quit_; });
    if (pending_ == nullptr) return;
    const char* block = pending_;
    const bool failed = error_ != 0;
    lock.unlock();
    const int err = failed ? 0 : hash_and_write(block, kBlock);
    lock.lock();
    if (error_ == 0) error_ = err;
    pending_ = nullptr;
    changed_.notify_all();
  }
}

int DirectWriter::finish() {
  // Also clears O_DIRECT: the tail is not a whole block, and the caller may write the file itself after this.
  stop_thread();
  if (error_ == 0 && fill_ > 0) error_ = hash_and_write(buffers_[current_].get(), fill_);
  fill_ = 0;
  return error_;
}

int DirectWriter::hash_and_write(const char* data, size_t size) {
  if (digest_ != nullptr) digest_->update(std::string_view(data, size));
  return write_all(data, size);
}

int DirectWriter::write_all(const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The file system takes no O_DIRECT writes (or a short write left the offset unaligned): the rest goes
      // through the page cache.
      if (errno == EINVAL && direct_) {
        stop_direct();
        continue;
      }
      return errno;
    }
    if (n == 0) return EIO;
#if defined(__linux__)
    // Through the page cache, start the writeback of what this write put there, so the fsync that completes
    // the file waits only for the last block.
    if (!direct_) {
      const off_t end = ::lseek(fd_, 0, SEEK_CUR);
      if (end >= n) (void)::sync_file_range(fd_, end - n, n, SYNC_FILE_RANGE_WRITE);
    }
#endif
    data += n;
    size -= size_t(n);
  }
  return 0;
}

void DirectWriter::stop_direct() {
#if defined(O_DIRECT)
  if (!direct_) return;
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
#endif
  direct_ = false;
}

}  // namespace tokenmill::util
