#include "dataset/byte_source.h"

#include <zlib.h>
#include <zstd.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tokenmill::dataset {

namespace {

constexpr size_t kRawBlock = size_t(1) << 20;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class PlainSource final : public ByteSource {
 public:
  PlainSource(std::FILE* f, std::string name, bool owned, uint64_t origin = 0, uint64_t left = UINT64_MAX)
      : ByteSource(f, std::move(name), owned, origin), left_(left) {}
  Status read(std::string& out, size_t max) override {
    if (left_ < max) max = size_t(left_);
    if (max == 0) return Status();
    left_ -= left_ == UINT64_MAX ? 0 : max;
    size_t old = out.size();
    out.resize(old + max);
    size_t got = 0;
    Status s = read_raw(out.data() + old, max, &got);
    out.resize(old + got);
    return s;
  }

 private:
  uint64_t left_;  // bytes of the range not yet read
};

// gzip via zlib (also multi-member files, as `gzip -d` and Python's gzip read them).
class GzipSource final : public ByteSource {
 public:
  GzipSource(std::FILE* f, std::string name, bool owned) : ByteSource(f, std::move(name), owned), raw_(kRawBlock) {
    std::memset(&z_, 0, sizeof z_);
    init_ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
  }
  ~GzipSource() override {
    if (init_ok_) inflateEnd(&z_);
  }

  Status read(std::string& out, size_t max) override {
    if (!init_ok_) return Status(ErrorCode::kIoError, name_ + ": zlib could not start");
    size_t old = out.size();
    out.resize(old + max);
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z_.avail_out = unsigned(max);
    while (z_.avail_out == max) {
      if (z_.avail_in == 0 && !eof_) {
        size_t got = 0;
        if (Status s = read_raw(raw_.data(), raw_.size(), &got); !s.ok()) return s;
        if (got == 0) eof_ = true;
        z_.next_in = reinterpret_cast<Bytef*>(raw_.data());
        z_.avail_in = unsigned(got);
      }
      if (z_.avail_in == 0 && eof_) {
        out.resize(old);
        if (in_member_ || raw_bytes_ == 0) {
          return Status(ErrorCode::kParseError,
                        name_ + ": truncated gzip stream at offset " + std::to_string(raw_bytes_));
        }
        return Status();
      }
      if (!in_member_) {
        inflateReset(&z_);
        in_member_ = true;
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        out.resize(old);
        const uint64_t at = raw_bytes_ - z_.avail_in;
        return Status(ErrorCode::kParseError, name_ + ": corrupt gzip data at offset " + std::to_string(at) + ": " +
                                                  (z_.msg ? z_.msg : "inflate failed"));
      }
    }
    out.resize(old + (max - z_.avail_out));
    return Status();
  }

 private:
  std::vector<char> raw_;
  z_stream z_;
  bool init_ok_ = false;
  bool eof_ = false;
  bool in_member_ = false;
};

class ZstdSource final : public ByteSource {
 public:
  ZstdSource(std::FILE* f, std::string name, bool owned)
      : ByteSource(f, std::move(name), owned), raw_(ZSTD_DStreamInSize()), ctx_(ZSTD_createDCtx()) {}
  ~ZstdSource() override { ZSTD_freeDCtx(ctx_); }

  // Fills `max` bytes unless the input ends first: the reader then splits and parses a whole block per
  // call (returning after each zstd block handed the reader a few hundred KB at a time).
  Status read(std::string& out, size_t max) override {
    if (ctx_ == nullptr) return Status(ErrorCode::kIoError, name_ + ": zstd could not start");
    size_t old = out.size();
    out.resize(old + max);
    ZSTD_outBuffer o{out.data() + old, max, 0};
    while (o.pos < o.size) {
      if (in_.pos == in_.size && !eof_) {
        size_t got = 0;
        if (Status s = read_raw(raw_.data(), raw_.size(), &got); !s.ok()) {
          out.resize(old);
          return s;
        }
        if (got == 0) eof_ = true;
        in_ = ZSTD_inBuffer{raw_.data(), got, 0};
      }
      const bool input_done = in_.pos == in_.size && eof_;
      // last_ == 0: every frame so far is decoded and flushed, so the end of the input is the end of the data.
      if (input_done && last_ == 0 && raw_bytes_ > 0) break;
      const size_t before = o.pos;
      last_ = input_done && raw_bytes_ == 0 ? 1 : ZSTD_decompressStream(ctx_, &o, &in_);
      if (ZSTD_isError(last_)) {
        out.resize(old);
        const uint64_t at = raw_bytes_ - (in_.size - in_.pos);
        return Status(ErrorCode::kParseError,
                      name_ + ": corrupt zstd data at offset " + std::to_string(at) + ": " + ZSTD_getErrorName(last_));
      }
      // At the end of the input zstd is called once more to flush what it still holds (a block whose output
      // did not fit); if that gives nothing, the frame is incomplete.
      if (input_done && o.pos == before) {
        out.resize(old);
        return Status(ErrorCode::kParseError,
                      name_ + ": truncated zstd stream at offset " + std::to_string(raw_bytes_));
      }
    }
    out.resize(old + o.pos);
    return Status();
  }

 private:
  std::vector<char> raw_;
  ZSTD_DCtx* ctx_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  size_t last_ = 0;
  bool eof_ = false;
};

}  // namespace

// Hashes bytes [origin, origin + n) of a file descriptor on its own thread, n growing as the reader consumes
// them (consumed()); the same bytes as hashing what the reader got, as long as the file does not change.
class ByteSource::OffsetHasher {
 public:
  OffsetHasher(int fd, uint64_t origin) : fd_(fd), origin_(origin), thread_(&OffsetHasher::run, this) {}
  ~OffsetHasher() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  void consumed(uint64_t n) {
    {
      std::lock_guard lock(mutex_);
      target_ = n;
    }
    changed_.notify_all();
  }

  // Waits until all n consumed bytes are hashed.
  Result<std::string> digest(uint64_t n, const std::string& name) {
    std::unique_lock lock(mutex_);
    target_ = n;
    final_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return hashed_ == target_ || error_ != 0; });
    if (error_ != 0) {
      return Status(ErrorCode::kIoError, name + ": read error at offset " + std::to_string(origin_ + hashed_) +
                                             " while hashing it: " + std::strerror(error_));
    }
    return hash_.hex_digest();
  }

 private:
  void run() {
    std::vector<char> buf(size_t(1) << 20);
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stop_ || hashed_ < target_ || final_; });
      // Past this, hashed_ < target_ (the wait ends with more consumed, or with final_ and nothing left).
      if (stop_ || hashed_ == target_ || error_ != 0) break;
      const uint64_t want = target_;
      lock.unlock();
      // hashed_ is this thread's to change; the others read it under the mutex, so it is written there.
      uint64_t at = hashed_;
      int err = 0;
      while (at < want && err == 0) {
        const ssize_t n =
            ::pread(fd_, buf.data(), size_t(std::min<uint64_t>(buf.size(), want - at)), off_t(origin_ + at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          err = n < 0 ? errno : EIO;  // 0: the file got shorter than what was read from it
          break;
        }
        hash_.update(std::string_view(buf.data(), size_t(n)));
        at += uint64_t(n);
      }
      lock.lock();
      hashed_ = at;
      error_ = err;
      changed_.notify_all();
    }
  }

  const int fd_;
  const uint64_t origin_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t target_ = 0;  // bytes consumed by the reader
  uint64_t hashed_ = 0;
  bool final_ = false;  // target_ will not grow
  bool stop_ = false;
  int error_ = 0;
  util::Sha256 hash_;   // the thread's until hashed_ == target_ with final_
  std::thread thread_;  // last: starts once the members above exist
};

ByteSource::ByteSource(std::FILE* f, std::string name, bool owned, uint64_t origin)
    : file_(f), name_(std::move(name)), owned_(owned) {
  struct stat st;
  const int fd = fileno(f);
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  try {
    hasher_ = std::make_unique<OffsetHasher>(fd, origin);
  } catch (const std::system_error&) {
    // No thread to be had: hashed as read.
  }
}

ByteSource::~ByteSource() {
  hasher_.reset();  // stops its thread before the descriptor it reads is closed
  if (owned_ && file_) std::fclose(file_);
}

Status ByteSource::read_raw(char* buf, size_t max, size_t* got) {
  *got = std::fread(buf, 1, max, file_);
  if (*got < max && std::ferror(file_)) {
    return Status(ErrorCode::kIoError, name_ + ": read error: " + std::strerror(errno));
  }
  raw_bytes_ += *got;
  if (hasher_) {
    hasher_->consumed(raw_bytes_);
  } else {
    hash_.update(std::string_view(buf, *got));
  }
  return Status();
}

Result<std::string> ByteSource::sha256() {
  if (hasher_) return hasher_->digest(raw_bytes_, name_);
  return hash_.hex_digest();
}

Result<std::unique_ptr<ByteSource>> open_byte_source(const std::string& path, uint64_t begin, uint64_t end) {
  const bool range = begin != 0 || end != UINT64_MAX;
  if (path == "-" && !range) {
    // Standard input may be a file some of which was read before: reading (and hashing) starts where it is.
    const off_t at = ::lseek(fileno(stdin), 0, SEEK_CUR);
    return std::unique_ptr<ByteSource>(new PlainSource(stdin, "standard input", false, at < 0 ? 0 : uint64_t(at)));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status(ErrorCode::kIoError, path + ": cannot open for reading: " + std::strerror(errno));
  if (range) {
    if (ends_with(path, ".gz") || ends_with(path, ".zst") || ends_with(path, ".zstd") || end < begin) {
      std::fclose(f);
      return Status(ErrorCode::kInvalidArgument, path + ": a byte range needs an uncompressed file");
    }
    if (fseeko(f, off_t(begin), SEEK_SET) != 0) {
      std::fclose(f);
      return Status(ErrorCode::kIoError, path + ": cannot seek to " + std::to_string(begin));
    }
    return std::unique_ptr<ByteSource>(new PlainSource(f, path, true, begin, end - begin));
  }
  if (ends_with(path, ".gz")) return std::unique_ptr<ByteSource>(new GzipSource(f, path, true));
  if (ends_with(path, ".zst") || ends_with(path, ".zstd")) {
    return std::unique_ptr<ByteSource>(new ZstdSource(f, path, true));
  }
  return std::unique_ptr<ByteSource>(new PlainSource(f, path, true));
}

}  // namespace tokenmill::dataset
