// A file that appears at its path complete or not at all. Every output of tokenmill (rank files, models,
// chunk tables, tokenizer.json, CLI output files) goes through this, so an interrupted or failed run never
// leaves a truncated file that looks finished.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "tokenmill/status.h"

namespace tokenmill::util {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Creates the temporary file next to the target (same file system, so the rename is atomic).
  Status open();
  std::FILE* file() const { return file_; }
  // Flushes, fsyncs, closes and renames into place. `write_ok` says whether the caller's writes succeeded;
  // if not, nothing is renamed.
  Status commit(bool write_ok = true);
  // commit() in two steps, so several files can be made complete first and then all put in place.
  Status finish(bool write_ok = true);
  Status publish();

  // A symlink is followed (the link stays, its target is replaced). A device node or FIFO is written to
  // directly, not replaced by a regular file. Temporary names are unique per open (mkstemp), and
  // temporary files of this path left by processes that no longer exist are removed on open().

 private:
  std::string path_;
  std::string target_;  // path_ with symlinks followed
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool write_through_ = false;
  bool committed_ = false;
};

}  // namespace tokenmill::util

namespace tokenmill {

// Writes `data` to `path` whole or not at all (temporary file + rename).
Status write_file_atomically(const std::string& path, std::string_view data);

// Writes several files (path, contents) all or none: each is completed under a temporary name first, and
// they are renamed into place only when every one is complete (a training run's model, .tiktoken and
// tokenizer.json).
Status write_files_atomically(std::span<const std::pair<std::string, std::string>> files);

}  // namespace tokenmill
