#include "dataset/shard_writer.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "util/atomic_file.h"
#include "util/direct_writer.h"
#include "util/sha256.h"

namespace tokenmill::dataset {

ShardWriter::~ShardWriter() = default;

namespace {

// One output file: little-endian integers through AtomicFile, counted and hashed as they are written.
class OutFile {
 public:
  Status open(const std::string& path) {
    path_ = path;
    writer_.reset();  // before the descriptor it writes is closed
    file_.emplace(path);
    bytes_ = 0;
    hash_ = util::Sha256();
    ok_ = true;
    if (Status s = file_->open(); !s.ok()) return s;
    // Documents come a few KB at a time; the writer gathers them into blocks it hashes and writes past the
    // page cache from a thread of its own (util/direct_writer.h).
    writer_.emplace(fileno(file_->file()), &hash_);
    return Status();
  }
  template <class T>
  void put(T v) {
    unsigned char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>(uint64_t(v) >> (8 * i));
    raw(reinterpret_cast<const char*>(b), sizeof b);
  }
  void raw(const char* p, size_t n) {
    if (!ok_) return;
    writer_->append(p, n);
    bytes_ += n;
  }
  // Tokens as `width`-byte little-endian integers. On a little-endian machine 4-byte ids are the bytes in
  // memory and 2-byte ids a plain narrowing the compiler vectorises; byte by byte, this took a sixth of the
  // producer thread on a 2-thread run.
  void tokens(std::span<const Rank> ids, int width) {
    if constexpr (std::endian::native == std::endian::little) {
      static_assert(sizeof(Rank) == 4);
      if (width == 4) {
        raw(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(Rank));
        return;
      }
      if (width == 2) {
        uint16_t narrow[4096];
        for (size_t at = 0; at < ids.size(); at += std::size(narrow)) {
          const size_t n = std::min(std::size(narrow), ids.size() - at);
          for (size_t i = 0; i < n; ++i) narrow[i] = static_cast<uint16_t>(ids[at + i]);
          raw(reinterpret_cast<const char*>(narrow), n * 2);
        }
        return;
      }
    }
    char buf[4096];
    size_t fill = 0;
    for (Rank id : ids) {
      for (int i = 0; i < width; ++i) buf[fill++] = char((id >> (8 * i)) & 0xFF);
      if (fill + 4 > sizeof buf) {
        raw(buf, fill);
        fill = 0;
      }
    }
    raw(buf, fill);
  }
  Result<FileRecord> commit() {
    // Finished here, so a full disk is reported with its errno rather than as a bare failed commit.
    finish_writes();
    writer_.reset();
    std::string why = ok_ ? "" : std::string(": ") + std::strerror(errno_);
    Status s = file_->commit(ok_);
    file_.reset();
    if (!s.ok()) return Status(s.code(), s.message() + why);
    return FileRecord{path_, bytes_, hash_.hex_digest()};
  }
  // Overwrites `size` bytes at `offset` once everything is written, and hashes the file again from disk:
  // for a file whose header is rewritten at the end.
  void patch(uint64_t offset, const void* data, size_t size) {
    finish_writes();
    if (!ok_) return;
    const int fd = fileno(file_->file());
    if (::pwrite(fd, data, size, off_t(offset)) != ssize_t(size)) {
      set_failed(errno);
      return;
    }
    // The temporary is open write-only; read it back through a second descriptor.
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    std::FILE* in = std::fopen(self.c_str(), "rb");
    if (in == nullptr) {
      set_failed(errno);
      return;
    }
    hash_ = util::Sha256();
    std::vector<char> buf(size_t(1) << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), in)) > 0) hash_.update(std::string_view(buf.data(), n));
    if (std::ferror(in)) set_failed(errno);
    std::fclose(in);
  }
  void set_failed(int err) {
    ok_ = false;
    errno_ = err;
  }
  void abandon() {
    writer_.reset();
    file_.reset();
  }

 private:
  void finish_writes() {
    if (!writer_) return;
    if (int err = writer_->finish(); err != 0 && ok_) set_failed(err);
  }

  std::string path_;
  std::optional<util::AtomicFile> file_;
  std::optional<util::DirectWriter> writer_;  // writes file_'s descriptor; reset before file_ closes it
  util::Sha256 hash_;                         // of what writer_ wrote: its thread's until finish_writes()
  uint64_t bytes_ = 0;
  bool ok_ = true;
  int errno_ = 0;
};

// megatron-core IndexedDataset (.bin + .idx), one sequence per document.
class MegatronWriter final : public ShardWriter {
 public:
  explicit MegatronWriter(uint32_t n_vocab) : wide_(n_vocab >= 65500) {}
  Status open(const std::string& base) override {
    base_ = base;
    lengths_.clear();
    current_ = 0;
    tokens_ = 0;
    return bin_.open(base + ".bin");
  }
  Status append(std::span<const Rank> ids, bool document_end) override {
    bin_.tokens(ids, wide_ ? 4 : 2);
    current_ += ids.size();
    tokens_ += ids.size();
    if (document_end) {
      lengths_.push_back(uint32_t(current_));
      current_ = 0;
    }
    return Status();
  }
  Result<std::vector<FileRecord>> commit() override {
    OutFile idx;
    if (Status s = idx.open(base_ + ".idx"); !s.ok()) return s;
    idx.raw("MMIDIDX\0\0", 9);
    idx.put<uint64_t>(1);
    idx.put<uint8_t>(wide_ ? 4 : 8);  // DType codes: 4 = int32, 8 = uint16
    idx.put<uint64_t>(lengths_.size());
    idx.put<uint64_t>(lengths_.size() + 1);
    for (uint32_t n : lengths_) idx.put<int32_t>(int32_t(n));
    int64_t pointer = 0;
    for (uint32_t n : lengths_) {
      idx.put<int64_t>(pointer);
      pointer += int64_t(n) * (wide_ ? 4 : 2);
    }
    for (size_t i = 0; i <= lengths_.size(); ++i) idx.put<int64_t>(int64_t(i));
    // The .bin first: an .idx at its path then always has its .bin complete beside it.
    auto bin = bin_.commit();
    if (!bin.ok()) return bin.status();
    auto index = idx.commit();
    if (!index.ok()) return index.status();
    return std::vector<FileRecord>{std::move(bin).value(), std::move(index).value()};
  }
  void abandon() override { bin_.abandon(); }
  uint64_t tokens() const override { return tokens_; }
  uint64_t documents() const override { return lengths_.size(); }

 private:
  bool wide_;
  std::string base_;
  OutFile bin_;
  std::vector<uint32_t> lengths_;
  uint64_t current_ = 0;
  uint64_t tokens_ = 0;
};

// nanoGPT: raw tokens (.bin) and the uint64 document offsets (.offsets).
class NanogptWriter final : public ShardWriter {
 public:
  explicit NanogptWriter(uint32_t n_vocab) : width_(n_vocab <= 65536 ? 2 : 4) {}
  Status open(const std::string& base) override {
    base_ = base;
    ends_.clear();
    tokens_ = 0;
    return bin_.open(base + ".bin");
  }
  Status append(std::span<const Rank> ids, bool document_end) override {
    bin_.tokens(ids, width_);
    tokens_ += ids.size();
    if (document_end) ends_.push_back(tokens_);
    return Status();
  }
  Result<std::vector<FileRecord>> commit() override {
    OutFile off;
    if (Status s = off.open(base_ + ".offsets"); !s.ok()) return s;
    off.put<uint64_t>(0);
    for (uint64_t e : ends_) off.put<uint64_t>(e);
    auto bin = bin_.commit();
    if (!bin.ok()) return bin.status();
    auto offsets = off.commit();
    if (!offsets.ok()) return offsets.status();
    return std::vector<FileRecord>{std::move(bin).value(), std::move(offsets).value()};
  }
  void abandon() override { bin_.abandon(); }
  uint64_t tokens() const override { return tokens_; }
  uint64_t documents() const override { return ends_.size(); }

 private:
  int width_;
  std::string base_;
  OutFile bin_;
  std::vector<uint64_t> ends_;
  uint64_t tokens_ = 0;
};

// llm.c: 256 int32 header (magic, version, token count), then uint16 tokens.
class LlmcWriter final : public ShardWriter {
 public:
  Status open(const std::string& base) override {
    tokens_ = 0;
    documents_ = 0;
    if (Status s = bin_.open(base + ".bin"); !s.ok()) return s;
    // The count is patched at commit; until then the file is only a temporary.
    for (int i = 0; i < 256; ++i) bin_.put<int32_t>(i == 0 ? 20240520 : i == 1 ? 1 : 0);
    return Status();
  }
  Status append(std::span<const Rank> ids, bool document_end) override {
    bin_.tokens(ids, 2);
    tokens_ += ids.size();
    documents_ += document_end;
    return Status();
  }
  Result<std::vector<FileRecord>> commit() override {
    unsigned char count[4];
    for (int i = 0; i < 4; ++i) count[i] = static_cast<unsigned char>(tokens_ >> (8 * i));
    bin_.patch(8, count, sizeof count);
    auto bin = bin_.commit();
    if (!bin.ok()) return bin.status();
    return std::vector<FileRecord>{std::move(bin).value()};
  }
  void abandon() override { bin_.abandon(); }
  uint64_t tokens() const override { return tokens_; }
  uint64_t documents() const override { return documents_; }

 private:
  OutFile bin_;
  uint64_t tokens_ = 0;
  uint64_t documents_ = 0;
};

}  // namespace

Result<std::unique_ptr<ShardWriter>> make_shard_writer(ShardFormat format, uint32_t n_vocab) {
  switch (format) {
    case ShardFormat::kMegatron:
      return std::unique_ptr<ShardWriter>(new MegatronWriter(n_vocab));
    case ShardFormat::kNanogpt:
      return std::unique_ptr<ShardWriter>(new NanogptWriter(n_vocab));
    case ShardFormat::kLlmc:
      if (n_vocab > 65536) {
        return Status(ErrorCode::kInvalidArgument,
                      "llmc shards hold uint16 tokens, but the vocabulary has " + std::to_string(n_vocab) + " ids");
      }
      return std::unique_ptr<ShardWriter>(new LlmcWriter());
  }
  return Status(ErrorCode::kInvalidArgument, "unknown shard format");
}

std::vector<std::string> shard_file_names(ShardFormat format, const std::string& base) {
  switch (format) {
    case ShardFormat::kMegatron:
      return {base + ".bin", base + ".idx"};
    case ShardFormat::kNanogpt:
      return {base + ".bin", base + ".offsets"};
    case ShardFormat::kLlmc:
      return {base + ".bin"};
  }
  return {};
}

}  // namespace tokenmill::dataset
