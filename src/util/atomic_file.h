// A file that appears at its path complete or not at all. Every output of tokenmill (rank files, models,
// chunk tables, tokenizer.json, CLI output files) goes through this, so an interrupted or failed run never
// leaves a truncated file that looks finished.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

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

 private:
  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace tokenmill::util

namespace tokenmill {

// Writes `data` to `path` whole or not at all (temporary file + rename).
Status write_file_atomically(const std::string& path, std::string_view data);

}  // namespace tokenmill
