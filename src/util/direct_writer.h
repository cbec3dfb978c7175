// Appends a large output (a shard's ids) to a file descriptor in whole blocks that bypass the kernel's page
// cache (Linux O_DIRECT) and are written by a background thread, so the thread producing the data neither
// copies it into the page cache nor waits for the disk.
//
// Why: a buffered write copies every byte into page-cache pages the kernel has to find first, and on a
// virtual machine whose free memory goes back to the host those pages fault in fresh: writing 320 MB cost
// 0.10 s of system time when the pages had just been freed by the same process and 1.36 s when they had not,
// and the one-thread `tokenize` of docs.jsonl spent 0.16-2.1 s of system time on its 331 MB of ids from run
// to run. With O_DIRECT the device reads the blocks from this writer's two buffers (0.04 s of system time
// for the same 320 MB), and the background thread only sleeps in write() while the disk works.
//
// With a digest, the writer also hashes every byte it writes, in file order, on the thread that writes it:
// a shard's sha256 for the manifest (with the inputs' sha256, about 7% of a one-thread `tokenize` of
// docs.jsonl when the encoding thread computed both) then costs the thread producing the data nothing.
//
// Where O_DIRECT is refused (a file system without it, such as an older tmpfs, a pipe, a device) the blocks
// are written through the page cache instead: same bytes, only the speed differs. The last partial block
// is always written that way, as O_DIRECT takes only whole blocks.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "util/sha256.h"

namespace tokenmill::util {

class DirectWriter {
 public:
  // Writes at fd's current offset onwards; fd stays the caller's (never closed here). The file must not be
  // written through any other path until finish(). `digest`, if given, is updated with every byte written
  // and must not be touched by anyone else until finish() has returned.
  explicit DirectWriter(int fd, Sha256* digest = nullptr);
  ~DirectWriter();  // waits for a block in flight; what finish() was not called for is not written
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;

  void append(const char* data, size_t size);
  // Writes what is left, waits for every write and returns 0, or the errno of the first write that failed
  // (after which nothing more is written).
  int finish();

  // A block is this many bytes, a multiple of every logical block size O_DIRECT may require.
  static constexpr size_t kBlock = size_t(1) << 20;

 private:
  void hand_off();     // passes the full current block to the thread, after the previous one is written
  void run();          // the background thread
  void stop_thread();  // waits for the block in flight, ends the thread and clears O_DIRECT
  int write_all(const char* data, size_t size);
  int hash_and_write(const char* data, size_t size);
  void stop_direct();

  int fd_;
  Sha256* digest_;
  bool direct_ = false;  // O_DIRECT is set on fd_
  struct FreeAligned {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, FreeAligned> buffers_[2];
  int current_ = 0;  // the buffer being filled
  size_t fill_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  const char* pending_ = nullptr;  // a full block the thread has yet to write
  bool quit_ = false;
  int error_ = 0;       // first failed write's errno; under mutex_ while the thread runs
  std::thread thread_;  // started with the first full block: a small file never starts one
};

}  // namespace tokenmill::util
