#include "util/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tokenmill::util {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(getpid())) {}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(tmp_.c_str());
}

Status AtomicFile::open() {
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) return Status(ErrorCode::kIoError, path_ + ": cannot write: " + std::strerror(errno));
  return Status();
}

Status AtomicFile::commit(bool write_ok) {
  bool ok = write_ok && file_ != nullptr;
  if (file_) {
    ok = (std::fflush(file_) == 0) && ok;
    ok = (fsync(fileno(file_)) == 0) && ok;
    ok = (std::fclose(file_) == 0) && ok;
    file_ = nullptr;
  }
  if (!ok) return Status(ErrorCode::kIoError, path_ + ": write failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Status(ErrorCode::kIoError, path_ + ": cannot rename into place: " + std::strerror(errno));
  }
  committed_ = true;
  return Status();
}

}  // namespace tokenmill::util

namespace tokenmill {

Status write_file_atomically(const std::string& path, std::string_view data) {
  util::AtomicFile out(path);
  if (Status s = out.open(); !s.ok()) return s;
  return out.commit(std::fwrite(data.data(), 1, data.size(), out.file()) == data.size());
}

}  // namespace tokenmill
