// Shard writers: token ids -> the files of one shard in a trainer's format. Each file goes through
// util::AtomicFile, so it appears complete (fsynced) at its path or not at all.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tokenmill/dataset.h"
#include "tokenmill/status.h"

namespace tokenmill::dataset {

struct FileRecord {
  std::string path;  // as written (the prefix's folder + name)
  uint64_t bytes = 0;
  std::string sha256;
};

class ShardWriter {
 public:
  virtual ~ShardWriter();
  // Starts the shard whose files are `base` + extensions. Temporary files until commit().
  virtual Status open(const std::string& base) = 0;
  // Tokens of the current document (possibly in several calls); `document_end` closes the document.
  virtual Status append(std::span<const Rank> tokens, bool document_end) = 0;
  // Completes the files and renames them into place; a failure leaves none of them at its path... except
  // those renamed before the failing one, which the manifest does not list, so a resumed run rewrites them.
  virtual Result<std::vector<FileRecord>> commit() = 0;
  // Drops the temporary files.
  virtual void abandon() = 0;
  virtual uint64_t tokens() const = 0;
  virtual uint64_t documents() const = 0;
};

// `n_vocab` picks the token width (uint16 or wider, as each format's reader expects).
Result<std::unique_ptr<ShardWriter>> make_shard_writer(ShardFormat format, uint32_t n_vocab);

// The file names (without folder) a shard of this format at `base` produces, for clean-up.
std::vector<std::string> shard_file_names(ShardFormat format, const std::string& base);

}  // namespace tokenmill::dataset
