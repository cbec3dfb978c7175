#include "util/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <vector>

namespace tokenmill::util {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Where a write to `path` has to land: a symlink is followed to its target (renaming over the link would
// replace the link with a file and leave the target as it was). A dangling link resolves to the path its
// target would have. Gives up (returns the path as is) on a loop.
std::string resolve_links(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::vector<char> buf(size_t(st.st_size > 0 ? st.st_size : 255) + 1);
    ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0 || size_t(n) >= buf.size()) return path;
    std::string target(buf.data(), size_t(n));
    path = target[0] == '/' ? target : dir_of(path) + "/" + target;
  }
  return path;
}

// mkstemp creates files 0600; a finished output gets the mode a plain fopen would give it (0666 less the
// umask). The umask is read from /proc, since umask() can only be read by changing it (racy in threads).
mode_t creation_mode() {
  mode_t mask = 022;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      mask = mode_t(std::strtoul(line.c_str() + 6, nullptr, 8));
      break;
    }
  }
  return 0666 & ~mask;
}

// "<base>.tmp.<pid>" (older tokenmill) or "<base>.tmp.<pid>.<6 characters>" (mkstemp's suffix): the pid of
// the process that was writing it, or 0 if the name is not one of ours.
pid_t temp_owner(const std::string& name, const std::string& base) {
  const std::string prefix = base + ".tmp.";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  size_t i = prefix.size();
  uint64_t pid = 0;
  const size_t digits_start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < (uint64_t(1) << 32))
    pid = pid * 10 + uint64_t(name[i++] - '0');
  if (i == digits_start || pid == 0 || pid > uint64_t(INT32_MAX)) return 0;
  if (i != name.size() && !(name[i] == '.' && name.size() - i - 1 == 6)) return 0;
  return pid_t(pid);
}

// Temporary files that a killed run left next to `target` (its pid no longer exists) are removed, so
// interrupted writes do not pile up. A live process's file, or one whose pid is reused, is left alone.
void remove_stale_temps(const std::string& target) {
  const std::string dir = dir_of(target), base = base_of(target);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const pid_t owner = temp_owner(name, base);
    if (owner == 0 || owner == getpid()) continue;
    if (kill(owner, 0) == 0 || errno != ESRCH) continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(path.c_str());
  }
  closedir(d);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_ && !tmp_.empty()) unlink(tmp_.c_str());
}

Status AtomicFile::open() {
  target_ = resolve_links(path_);
  struct stat st;
  if (stat(target_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status(ErrorCode::kIoError, path_ + ": cannot write: is a directory");
    if (!S_ISREG(st.st_mode)) {
      // A device or FIFO: there is no "half-written file" to avoid, and renaming a regular file over
      // /dev/null or a pipe would replace the node. Write to it as it is.
      file_ = std::fopen(target_.c_str(), "wb");
      if (file_ == nullptr) return Status(ErrorCode::kIoError, path_ + ": cannot write: " + errno_text());
      write_through_ = true;
      return Status();
    }
  }
  remove_stale_temps(target_);
  // A unique name per open (not just per process), so threads writing the same path never share a file.
  std::string name = target_ + ".tmp." + std::to_string(getpid()) + ".XXXXXX";
  int fd = mkstemp(name.data());
  if (fd < 0) return Status(ErrorCode::kIoError, path_ + ": cannot write: " + errno_text());
  tmp_ = name;
  (void)fchmod(fd, creation_mode());
  file_ = fdopen(fd, "wb");
  if (file_ == nullptr) {
    const std::string err = errno_text();
    ::close(fd);
    return Status(ErrorCode::kIoError, path_ + ": cannot write: " + err);
  }
  return Status();
}

Status AtomicFile::finish(bool write_ok) {
  bool ok = write_ok && file_ != nullptr;
  int err = 0;
  if (file_) {
    if (std::fflush(file_) != 0 && err == 0) err = errno;
    // fsync of a device or pipe can fail with EINVAL for no fault of the data: only files need it.
    if (!write_through_ && fsync(fileno(file_)) != 0 && err == 0) err = errno;
    if (std::fclose(file_) != 0 && err == 0) err = errno;
    file_ = nullptr;
  }
  if (err != 0) ok = false;
  if (!ok) {
    return Status(ErrorCode::kIoError,
                  path_ + ": write failed" + (err != 0 ? std::string(": ") + std::strerror(err) : std::string()));
  }
  return Status();
}

Status AtomicFile::publish() {
  if (write_through_) {
    committed_ = true;
    return Status();
  }
  if (std::rename(tmp_.c_str(), target_.c_str()) != 0) {
    return Status(ErrorCode::kIoError, path_ + ": cannot rename into place: " + errno_text());
  }
  committed_ = true;
  // The rename is durable once the folder is on disk too.
  int dfd = ::open(dir_of(target_).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)fsync(dfd);
    ::close(dfd);
  }
  return Status();
}

Status AtomicFile::commit(bool write_ok) {
  if (Status s = finish(write_ok); !s.ok()) return s;
  return publish();
}

}  // namespace tokenmill::util

namespace tokenmill {

Status write_file_atomically(const std::string& path, std::string_view data) {
  util::AtomicFile out(path);
  if (Status s = out.open(); !s.ok()) return s;
  return out.commit(std::fwrite(data.data(), 1, data.size(), out.file()) == data.size());
}

Status write_files_atomically(std::span<const std::pair<std::string, std::string>> files) {
  // Every file is written and synced under a temporary name first; only when all are complete are they
  // renamed into place, so a failure leaves none of them (a rename fails only if the folder changed under
  // us, and then the files already renamed are removed again).
  std::vector<std::unique_ptr<util::AtomicFile>> outs;
  for (const auto& [path, data] : files) {
    outs.push_back(std::make_unique<util::AtomicFile>(path));
    util::AtomicFile& out = *outs.back();
    if (Status s = out.open(); !s.ok()) return s;
    if (Status s = out.finish(std::fwrite(data.data(), 1, data.size(), out.file()) == data.size()); !s.ok()) return s;
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    if (Status s = outs[i]->publish(); !s.ok()) {
      for (size_t j = 0; j < i; ++j) unlink(files[j].first.c_str());
      return s;
    }
  }
  return Status();
}

}  // namespace tokenmill
