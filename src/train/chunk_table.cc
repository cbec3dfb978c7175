// Chunk count tables (format in chunk_table.h): written streaming into a temporary file, renamed into
// place when complete; read streaming, checking every field.
#include "tokenmill/chunk_table.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <optional>
#include <vector>

#include "util/atomic_file.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {

constexpr char kMagic[8] = {'T', 'M', 'C', 'H', 'U', 'N', 'K', 'S'};
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t fnv1a(uint64_t h, const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ uint8_t(p[i])) * kFnvPrime;
  return h;
}

class Writer {
 public:
  explicit Writer(std::FILE* f) : f_(f) { buf_.reserve(1 << 20); }
  void bytes(const void* p, size_t n) {
    hash_ = fnv1a(hash_, static_cast<const char*>(p), n);
    raw(p, n);
  }
  void u32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = char(v >> (8 * i));
    bytes(b, 4);
  }
  void u64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = char(v >> (8 * i));
    bytes(b, 8);
  }
  void checksum() {
    const uint64_t h = hash_;
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = char(h >> (8 * i));
    raw(b, 8);
  }
  bool flush() {
    ok_ = ok_ && std::fwrite(buf_.data(), 1, buf_.size(), f_) == buf_.size();
    buf_.clear();
    return ok_;
  }

 private:
  void raw(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    if (buf_.size() >= (1 << 20)) flush();
  }
  std::FILE* f_;
  std::string buf_;
  uint64_t hash_ = kFnvOffset;
  bool ok_ = true;
};

// Streaming reader: every read says what it was reading, so a short file names the field it ends in.
class Reader {
 public:
  Reader(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}

  Status bytes(void* out, size_t n, const char* what) {
    char* o = static_cast<char*>(out);
    while (n > 0) {
      if (pos_ == end_) {
        end_ = std::fread(buf_, 1, sizeof buf_, f_);
        pos_ = 0;
        if (end_ == 0) {
          if (std::ferror(f_)) return Status(ErrorCode::kIoError, path_ + ": read error: " + std::strerror(errno));
          return Status(ErrorCode::kParseError, path_ + ": truncated chunk table: the file ends at byte " +
                                                    std::to_string(offset_) + ", inside " + what);
        }
      }
      size_t take = std::min(n, end_ - pos_);
      std::memcpy(o, buf_ + pos_, take);
      hash_ = fnv1a(hash_, buf_ + pos_, take);
      pos_ += take;
      offset_ += take;
      o += take;
      n -= take;
    }
    return Status();
  }
  // n bytes into `out`, which grows only as the data actually arrives: a length field is read before its
  // bytes, and a damaged one (up to 4 GB) must end in "truncated", not in a 4 GB allocation first.
  Status string(std::string* out, size_t n, const char* what) {
    out->clear();
    while (out->size() < n) {
      const size_t old = out->size();
      const size_t step = std::min(n - old, std::max<size_t>(sizeof buf_, old));
      out->resize(old + step);
      if (Status s = bytes(out->data() + old, step, what); !s.ok()) return s;
    }
    return Status();
  }
  Status u32(uint32_t* v, const char* what) {
    unsigned char b[4];
    if (Status s = bytes(b, 4, what); !s.ok()) return s;
    *v = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    return Status();
  }
  Status u64(uint64_t* v, const char* what) {
    unsigned char b[8];
    if (Status s = bytes(b, 8, what); !s.ok()) return s;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = (*v << 8) | b[i];
    return Status();
  }
  uint64_t hash() const { return hash_; }
  uint64_t offset() const { return offset_; }
  bool at_eof() {
    if (pos_ < end_) return false;
    end_ = std::fread(buf_, 1, sizeof buf_, f_);
    pos_ = 0;
    return end_ == 0;
  }
  Status error(const std::string& what) const {
    return Status(ErrorCode::kParseError, path_ + ": corrupt chunk table: " + what);
  }

 private:
  std::FILE* f_;
  std::string path_;
  char buf_[1 << 16];
  size_t pos_ = 0, end_ = 0;
  uint64_t offset_ = 0;
  uint64_t hash_ = kFnvOffset;
};

struct Header {
  uint64_t documents = 0, total = 0, entries = 0;
  std::string pattern;
};

Status read_header(Reader& r, const std::string& path, Header* h) {
  char magic[8];
  if (Status s = r.bytes(magic, 8, "the magic number"); !s.ok()) {
    if (s.code() == ErrorCode::kParseError) {
      return Status(ErrorCode::kParseError, path + ": not a tokenmill chunk table (too short for the magic \"TMCHUNKS\")");
    }
    return s;
  }
  if (std::memcmp(magic, kMagic, 8) != 0) {
    return Status(ErrorCode::kParseError, path + ": not a tokenmill chunk table (bad magic: expected \"TMCHUNKS\")");
  }
  uint32_t version, flags, plen;
  if (Status s = r.u32(&version, "the version"); !s.ok()) return s;
  if (version != kChunkTableVersion) {
    return Status(ErrorCode::kParseError, path + ": unsupported chunk table version " + std::to_string(version) +
                                              " (this tokenmill reads version " + std::to_string(kChunkTableVersion) + ")");
  }
  if (Status s = r.u32(&flags, "the flags"); !s.ok()) return s;
  if (flags != 0) return r.error("unknown flags " + std::to_string(flags));
  if (Status s = r.u64(&h->documents, "the document count"); !s.ok()) return s;
  if (Status s = r.u64(&h->total, "the chunk total"); !s.ok()) return s;
  if (Status s = r.u64(&h->entries, "the entry count"); !s.ok()) return s;
  if (Status s = r.u32(&plen, "the pattern length"); !s.ok()) return s;
  if (plen > (1u << 20)) return r.error("pattern length " + std::to_string(plen) + " is implausible");
  return r.string(&h->pattern, plen, "the pattern");
}

// Reads the entries into `counter` and checks the trailer.
Status read_entries(Reader& r, const Header& h, ChunkCounter& counter) {
  std::string prev, chunk;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < h.entries; ++i) {
    uint32_t len;
    uint64_t count;
    if (Status s = r.u32(&len, "an entry's length"); !s.ok()) return s;
    if (len == 0) return r.error("entry " + std::to_string(i) + " is empty");
    if (Status s = r.string(&chunk, len, "an entry's chunk"); !s.ok()) return s;
    if (Status s = r.u64(&count, "an entry's count"); !s.ok()) return s;
    if (count == 0) return r.error("entry " + std::to_string(i) + " has count 0");
    if (i > 0 && !(std::string_view(prev) < std::string_view(chunk))) {
      return r.error("entry " + std::to_string(i) + " is out of order (entries are sorted, without duplicates)");
    }
    if (sum + count < sum) return r.error("counts overflow 64 bits");
    sum += count;
    counter.add_chunk(chunk, count);
    prev.swap(chunk);
  }
  const uint64_t want = r.hash();
  uint64_t stored;
  if (Status s = r.u64(&stored, "the checksum"); !s.ok()) return s;
  if (stored != want) return r.error("checksum mismatch (the file was damaged)");
  if (!r.at_eof()) return r.error("data after the checksum");
  if (sum != h.total) {
    return r.error("counts add up to " + std::to_string(sum) + ", the header says " + std::to_string(h.total));
  }
  counter.add_documents(h.documents);
  return Status();
}

struct File {
  std::FILE* f = nullptr;
  ~File() {
    if (f) std::fclose(f);
  }
};

}  // namespace

Status write_chunk_table(const ChunkCounter& counter, const std::string& path) try {
  // Sorted by bytes: the canonical table.
  std::vector<uint32_t> order(counter.distinct_chunks());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return counter.chunk(a) < counter.chunk(b); });

  util::AtomicFile out(path);
  if (Status s = out.open(); !s.ok()) return s;
  Writer w(out.file());
  w.bytes(kMagic, 8);
  w.u32(kChunkTableVersion);
  w.u32(0);
  w.u64(counter.documents());
  w.u64(counter.total_chunks());
  w.u64(order.size());
  w.u32(uint32_t(counter.pattern().size()));
  w.bytes(counter.pattern().data(), counter.pattern().size());
  for (uint32_t i : order) {
    std::string_view c = counter.chunk(i);
    w.u32(uint32_t(c.size()));
    w.bytes(c.data(), c.size());
    w.u64(counter.count(i));
  }
  w.checksum();
  return out.commit(w.flush());
} catch (...) {
  return util::exception_status([&] { return "writing the chunk table " + path; });
}

namespace {

// A table opened for reading with its header read; the entries follow in `reader`.
struct OpenTable {
  File file;
  std::optional<Reader> reader;
  Header header;
};

Status open_table(const std::string& path, OpenTable& table) {
  table.file.f = std::fopen(path.c_str(), "rb");
  if (table.file.f == nullptr) {
    return Status(ErrorCode::kIoError, path + ": cannot open for reading: " + std::strerror(errno));
  }
  table.reader.emplace(table.file.f, path);
  return read_header(*table.reader, path, &table.header);
}

}  // namespace

Result<ChunkCounter> read_chunk_table(const std::string& path) try {
  OpenTable table;
  if (Status s = open_table(path, table); !s.ok()) return s;
  auto counter = ChunkCounter::create(table.header.pattern);
  if (!counter.ok()) {
    // Out of memory is not a damaged table: keep its code.
    const ErrorCode code =
        counter.status().code() == ErrorCode::kOutOfMemory ? ErrorCode::kOutOfMemory : ErrorCode::kParseError;
    return Status(code, path + ": the table's pattern does not compile: " + counter.error());
  }
  if (Status s = read_entries(*table.reader, table.header, *counter); !s.ok()) return s;
  return counter;
} catch (...) {
  return util::exception_status([&] { return "reading the chunk table " + path; });
}

Status add_chunk_table(const std::string& path, ChunkCounter& counter) try {
  OpenTable table;
  if (Status s = open_table(path, table); !s.ok()) return s;
  if (table.header.pattern != counter.pattern()) {
    return Status(ErrorCode::kInvalidArgument, path + ": counted with another split pattern (" + table.header.pattern +
                                                   ") than the other tables (" + counter.pattern() + ")");
  }
  return read_entries(*table.reader, table.header, counter);
} catch (...) {
  return util::exception_status([&] { return "reading the chunk table " + path; });
}

}  // namespace tokenmill
