#include "tokenmill/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace tokenmill {

namespace {

constexpr size_t kChunk = size_t(1) << 20;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd > 2) ::close(fd);
  }
};

}  // namespace

Result<std::string> read_file(const std::string& path, uint64_t max_bytes, const char* what) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? std::string("standard input") : path;
  Fd in;
  in.fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in.fd < 0) return Status(ErrorCode::kIoError, name + ": cannot open " + what + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(in.fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status(ErrorCode::kIoError, name + ": cannot read " + what + ": is a directory");
  }
  auto too_large = [&] {
    return Status(ErrorCode::kIoError,
                  name + ": " + what + " is larger than the " + std::to_string(max_bytes) + " bytes it can be");
  };
  try {
    std::string data;
    // A regular file's size is known: one allocation. Anything else (pipes, /proc, devices) grows.
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      if (uint64_t(st.st_size) > max_bytes) return too_large();
      data.reserve(size_t(st.st_size));
    }
    // Reads go through a fixed buffer: growing the string by resize() would zero-fill every byte first.
    std::unique_ptr<char[]> buf(new char[kChunk]);
    while (true) {
      ssize_t n = ::read(in.fd, buf.get(), kChunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status(ErrorCode::kIoError, name + ": read error in " + what + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      if (data.size() + size_t(n) > max_bytes) return too_large();
      data.append(buf.get(), size_t(n));
    }
    return data;
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::kOutOfMemory, name + ": out of memory reading " + what);
  } catch (const std::length_error&) {
    return Status(ErrorCode::kOutOfMemory, name + ": out of memory reading " + what);
  }
}

}  // namespace tokenmill
