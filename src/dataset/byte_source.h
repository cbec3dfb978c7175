// Byte sources: an input file as a stream of decompressed blocks. One implementation per container
// (plain, gzip, zstd), chosen by the file name's extension.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "tokenmill/status.h"
#include "util/sha256.h"

namespace tokenmill::dataset {

class ByteSource {
 public:
  virtual ~ByteSource();
  // Appends up to about `max` decompressed bytes to `out`; 0 appended and ok = end of input. A truncated
  // or corrupt compressed stream is an error naming the file and the compressed offset.
  virtual Status read(std::string& out, size_t max) = 0;

  // Raw (compressed) bytes consumed so far, and their sha256 once the input is read to the end (call once).
  uint64_t raw_bytes() const { return raw_bytes_; }
  Result<std::string> sha256();

 protected:
  // `origin`: where in the file reading starts. A regular file is hashed on a thread of its own, which reads
  // it again at an offset (pread) never past what has been consumed: the thread that parses and encodes
  // then does not also hash (the manifest's sha256 of inputs and shards together was about 7% of a
  // one-thread `tokenize` of docs.jsonl, the inputs a little under half of it). A pipe is hashed as it is read.
  ByteSource(std::FILE* f, std::string name, bool owned, uint64_t origin = 0);
  // Raw bytes from the file, hashed and counted.
  Status read_raw(char* buf, size_t max, size_t* got);

  std::FILE* file_;
  std::string name_;
  bool owned_;
  uint64_t raw_bytes_ = 0;

 private:
  class OffsetHasher;
  std::unique_ptr<OffsetHasher> hasher_;  // null: hash_ is updated as bytes are read
  util::Sha256 hash_;
};

// "-" is standard input (never compressed). Compression by extension: .gz, .zst / .zstd. A byte range
// [begin, end) is only for uncompressed files (the hash then covers the range).
Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path, uint64_t begin = 0,
                                                     uint64_t end = UINT64_MAX);

}  // namespace tokenmill::dataset
