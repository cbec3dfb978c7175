// The chunk table reader on arbitrary bytes (through a memory file, since it reads a path). Run with
// -malloc_limit_mb: a length field trusted before its bytes are read (a 4 GB allocation for a short file)
// is then a failure, not just slow.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenmill/chunk_table.h"

namespace {
int memfd = -1;
std::string path;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  memfd = memfd_create("fuzz_chunk_table", 0);
  if (memfd < 0) std::abort();
  path = "/proc/self/fd/" + std::to_string(memfd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != ssize_t(size)) std::abort();
  auto counter = tokenmill::read_chunk_table(path);
  if (counter.ok()) {
    uint64_t total = 0;
    for (size_t i = 0; i < counter->distinct_chunks(); ++i) total += counter->count(i);
    if (total != counter->total_chunks()) std::abort();
  }
  return 0;
}
