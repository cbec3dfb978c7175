// Files -> documents for the chunk counter, in blocks, so a corpus larger than memory streams through.
//
// `lines` reproduces what Python's `for line in open(path)` yields, which is what rustbpe's
// train_from_iterator sees: universal newlines (`\r\n` and a lone `\r` become `\n`), each line with its
// `\n` a document, the last line without one if the file does not end in a newline. Python would refuse
// invalid UTF-8; we replace it as errors="replace" does (each block is validated with simdjson's SIMD
// validator first, so valid text pays almost nothing for the check).
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tokenmill/train.h"
#include "util/no_throw.h"
#include "util/thread_pool.h"

namespace tokenmill {

namespace {

constexpr size_t kBlock = size_t(4) << 20;

bool is_valid_utf8(const char* p, size_t n) { return simdjson::validate_utf8(p, n); }

// Byte length of the first `max_chars` code points of valid UTF-8 (all of it if shorter).
size_t prefix_of_chars(std::string_view s, uint64_t max_chars) {
  uint64_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((uint8_t(s[i]) & 0xC0) != 0x80) {
      if (seen == max_chars) return i;
      ++seen;
    }
  }
  return s.size();
}

uint64_t count_chars(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) n += (uint8_t(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

// Counting on the library's thread pool: documents are copied into batches (about 1 MB), each batch is a
// task, and at most 2 * threads are queued (so reading never runs far ahead: memory stays one chunk table
// per thread plus a few batches). A task counts into a table no other running task holds (the group runs at
// most `threads` tasks at once, so one of the `threads` tables is always free), and the tables are merged at
// the end of the file. Counting is a sum, so the merged table holds exactly the counts one thread would have
// found, whichever table counted which batch; an error is the earliest failing batch's.
struct CorpusReader::Parallel {
  struct Batch {
    std::string text;
    std::vector<size_t> ends;
  };
  static constexpr size_t kBatchBytes = size_t(1) << 20;

  unsigned threads;
  std::string pattern;
  Batch current;
  std::vector<ChunkCounter> tables;
  std::mutex m;
  std::condition_variable space_ready;
  std::vector<size_t> free_tables;  // under m
  size_t queued = 0;                // batches submitted and not counted yet, under m
  uint64_t next_batch = 0;
  uint64_t error_batch = UINT64_MAX;  // the earliest failing batch and its error, under m
  Status error;
  // Null until the first batch. Declared last, so it is destroyed first: its destructor waits for the tasks,
  // which use the members above.
  std::unique_ptr<util::TaskGroup> group;

  Parallel(unsigned n, std::string p) : threads(n), pattern(std::move(p)) {}

  static Status count_batch(ChunkCounter& table, const Batch& b) {
    size_t start = 0;
    for (size_t end : b.ends) {
      if (Status s = table.add_document(std::string_view(b.text).substr(start, end - start)); !s.ok()) return s;
      start = end;
    }
    return Status();
  }

  void start() {
    for (unsigned i = 0; i < threads; ++i) {
      tables.push_back(std::move(ChunkCounter::create(pattern)).value());  // the counter's pattern compiled
      free_tables.push_back(i);
    }
    group = std::make_unique<util::TaskGroup>(threads);
  }

  void count(const Batch& b, uint64_t index) {
    size_t t;
    {
      std::lock_guard<std::mutex> lock(m);
      t = free_tables.back();
      free_tables.pop_back();
    }
    Status s;
    try {
      s = count_batch(tables[t], b);
    } catch (...) {
      s = util::exception_status("counting a batch of documents");
    }
    {
      std::lock_guard<std::mutex> lock(m);
      free_tables.push_back(t);
      --queued;
      if (!s.ok() && index < error_batch) {
        error_batch = index;
        error = std::move(s);
      }
    }
    space_ready.notify_one();
  }

  void submit() {
    if (!group) start();
    {
      std::unique_lock<std::mutex> lock(m);
      space_ready.wait(lock, [&] { return queued < 2 * size_t(threads); });
      ++queued;
    }
    auto b = std::make_shared<Batch>(std::move(current));
    current = Batch();
    group->run([this, b, index = next_batch++] { count(*b, index); });
  }

  void add(std::string_view doc) {
    current.text.append(doc);
    current.ends.push_back(current.text.size());
    if (current.text.size() >= kBatchBytes) submit();
  }

  // Waits for the tasks and merges everything counted since the last finish into `counter`.
  Status finish(ChunkCounter& counter) {
    if (!group) {
      Status s = count_batch(counter, current);  // a small file: not worth a thread
      current = Batch();
      return s;
    }
    if (!current.ends.empty()) submit();
    group->wait();  // count() catches everything: nothing is rethrown
    group.reset();
    for (auto& t : tables) (void)counter.merge(t);  // same pattern by construction
    tables.clear();
    free_tables.clear();
    next_batch = 0;
    error_batch = UINT64_MAX;
    return std::exchange(error, Status());
  }
};

CorpusReader::CorpusReader(ChunkCounter& counter, CorpusOptions options)
    : counter_(counter), options_(std::move(options)) {
  const unsigned n = util::resolve_threads(options_.threads);
  if (n > 1) parallel_ = std::make_unique<Parallel>(n, counter_.pattern());
}

CorpusReader::~CorpusReader() {
  if (parallel_) (void)finish_stream();
}

Status CorpusReader::finish_stream() {
  if (parallel_) return parallel_->finish(counter_);
  return Status();
}

Status CorpusReader::add_document(std::string_view text) {
  if (done_) return Status();
  if (options_.doc_cap != 0) text = text.substr(0, prefix_of_chars(text, options_.doc_cap));
  if (options_.max_chars != 0) chars_ += count_chars(text);
  ++documents_;
  Status s;
  if (parallel_) {
    parallel_->add(text);
  } else {
    s = counter_.add_document(text);
  }
  // nanochat yields the document that crosses the budget, then stops.
  if (options_.max_chars != 0 && chars_ > options_.max_chars) done_ = true;
  return s;
}

Status CorpusReader::add_file(const std::string& path) try {
  if (done_) return Status();
  if (path == "-") return add_stream(stdin, "standard input");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status(ErrorCode::kIoError, path + ": cannot open for reading: " + std::strerror(errno));
  Status s = add_stream(f, path);
  std::fclose(f);
  return s;
} catch (...) {
  return util::exception_status([&] { return "reading " + path; });
}

Status CorpusReader::add_stream(std::FILE* f, const std::string& name) try {
  if (done_) return Status();
  Status s(ErrorCode::kInvalidArgument, "unknown input format");
  switch (options_.format) {
    case InputFormat::kLines: s = read_lines(f, name, false); break;
    case InputFormat::kJsonl: s = read_lines(f, name, true); break;
    case InputFormat::kWhole: s = read_whole(f, name); break;
    case InputFormat::kChunks: s = read_chunks(f, name); break;
  }
  Status counted = finish_stream();  // the counter is complete whenever add_file / add_stream returns
  if (s.ok() && !counted.ok()) return Status(counted.code(), name + ": " + counted.message());
  return s;
} catch (...) {
  return util::exception_status([&] { return "reading " + name; });
}

Status CorpusReader::read_whole(std::FILE* f, const std::string& name) {
  std::string data;
  std::vector<char> buf(kBlock);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    data.append(buf.data(), n);
    bytes_read_ += n;
    if (options_.on_progress) options_.on_progress(bytes_read_);
  }
  if (std::ferror(f)) return Status(ErrorCode::kIoError, name + ": read error: " + std::strerror(errno));
  // Same text as Python's open(path).read(): universal newlines, invalid UTF-8 replaced.
  if (data.find('\r') != std::string::npos) {
    std::string t;
    t.reserve(data.size());
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] == '\r') {
        t += '\n';
        if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
      } else {
        t += data[i];
      }
    }
    data.swap(t);
  }
  if (!is_valid_utf8(data.data(), data.size())) data = utf8_replace_invalid(data);
  if (!data.empty()) {
    if (Status s = add_document(data); !s.ok()) return Status(s.code(), name + ": " + s.message());
  }
  return Status();
}

Status CorpusReader::read_chunks(std::FILE* f, const std::string& name) {
  if (options_.chunk_chars == 0) return Status(ErrorCode::kInvalidArgument, "chunks input needs chunk_chars > 0");
  // raw: bytes read but not yet decoded (a trailing \r that may start \r\n, or an incomplete UTF-8 sequence
  // at the end of a block); text: decoded text (valid UTF-8, newlines translated) not yet emitted.
  std::vector<char> buf(kBlock);
  std::string raw, part, text;
  bool eof = false;
  while (!eof && !done_) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f);
    if (n < buf.size()) {
      if (std::ferror(f)) return Status(ErrorCode::kIoError, name + ": read error: " + std::strerror(errno));
      eof = true;
    }
    bytes_read_ += n;
    if (options_.on_progress) options_.on_progress(bytes_read_);
    raw.append(buf.data(), n);
    size_t safe = raw.size();
    if (!eof && safe > 0) {
      if (raw[safe - 1] == '\r') {
        --safe;
      } else {
        for (size_t k = 1; k <= 3 && k <= safe; ++k) {
          const uint8_t c = uint8_t(raw[safe - k]);
          if ((c & 0xC0) == 0x80) continue;
          const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
          if (k < need) safe -= k;
          break;
        }
      }
    }
    // Universal newlines, then errors="replace" (the order does not matter: \r ends any invalid sequence).
    part.clear();
    for (size_t i = 0; i < safe; ++i) {
      if (raw[i] == '\r') {
        part += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;  // i + 1 < safe: a held-back \r is never here
      } else {
        part += raw[i];
      }
    }
    raw.erase(0, safe);
    if (is_valid_utf8(part.data(), part.size())) {
      text += part;
    } else {
      text += utf8_replace_invalid(part);
    }
    // Emit every complete document; the rest (at most chunk_chars characters) waits for the next block.
    size_t start = 0;
    uint64_t chars = 0;
    for (size_t i = 0; i < text.size() && !done_; ++i) {
      if ((uint8_t(text[i]) & 0xC0) == 0x80) continue;
      if (chars == options_.chunk_chars) {
        if (Status s = add_document(std::string_view(text).substr(start, i - start)); !s.ok()) {
          return Status(s.code(), name + ": " + s.message());
        }
        start = i;
        chars = 0;
      }
      ++chars;
    }
    text.erase(0, start);
  }
  if (!done_ && !text.empty()) {
    if (Status s = add_document(text); !s.ok()) return Status(s.code(), name + ": " + s.message());
  }
  return Status();
}

Status CorpusReader::read_lines(std::FILE* f, const std::string& name, bool jsonl) {
  // buf[0, have) holds unread bytes; complete lines are consumed, the partial last line moves to the
  // front. SIMDJSON_PADDING spare bytes at the end let simdjson parse a line in place.
  std::vector<char> buf(kBlock + simdjson::SIMDJSON_PADDING);
  size_t have = 0;
  bool eof = false;
  uint64_t line_no = 0;
  std::string scratch;
  simdjson::dom::parser parser;

  auto handle_line = [&](const char* p, size_t n, bool translated_newline) -> Status {
    // p[0, n) is the line content including its terminator as it appears in the file.
    ++line_no;
    auto counted = [&](Status s) {
      if (s.ok()) return s;
      return Status(s.code(), name + ":" + std::to_string(line_no) + ": " + s.message());
    };
    if (!jsonl) {
      if (!translated_newline) {
        if (is_valid_utf8(p, n)) return counted(add_document(std::string_view(p, n)));
        return counted(add_document(utf8_replace_invalid(std::string_view(p, n))));
      }
      // The line ends in \r or \r\n: Python sees the content followed by a single \n.
      size_t content = n - 1;
      if (content > 0 && p[content - 1] == '\r' && p[content] == '\n') --content;
      scratch.assign(p, content);
      if (!is_valid_utf8(scratch.data(), scratch.size())) scratch = utf8_replace_invalid(scratch);
      scratch += '\n';
      return counted(add_document(scratch));
    }
    // JSON Lines: blank lines are skipped; anything else must be an object with a string field.
    size_t len = n;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t')) --len;
    if (len == 0) return Status();
    simdjson::dom::element doc;
    auto err = parser.parse(p, len, /*realloc_if_needed=*/true).get(doc);
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    if (err) return Status(ErrorCode::kParseError, where + "malformed JSON: " + simdjson::error_message(err));
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return Status(ErrorCode::kParseError, where + "not a JSON object");
    // A key given twice: Python's json.loads (what a user's own script sees) keeps the last value, while
    // at_key would find the first. Scan every field.
    simdjson::dom::element field;
    bool found = false;
    for (simdjson::dom::key_value_pair kv : obj) {
      if (kv.key == options_.jsonl_field) {
        field = kv.value;
        found = true;
      }
    }
    if (!found) return Status(ErrorCode::kParseError, where + "no field \"" + options_.jsonl_field + "\"");
    std::string_view text;
    if (field.get_string().get(text)) {
      return Status(ErrorCode::kParseError, where + "field \"" + options_.jsonl_field + "\" is not a string");
    }
    return counted(add_document(text));  // simdjson has validated the UTF-8
  };

  while (!done_) {
    if (!eof) {
      if (have == buf.size() - simdjson::SIMDJSON_PADDING) {
        // One line fills the whole buffer: grow it (the longest line has to fit in memory).
        buf.resize((buf.size() - simdjson::SIMDJSON_PADDING) * 2 + simdjson::SIMDJSON_PADDING);
      }
      size_t want = buf.size() - simdjson::SIMDJSON_PADDING - have;
      size_t got = std::fread(buf.data() + have, 1, want, f);
      if (got < want) {
        if (std::ferror(f)) return Status(ErrorCode::kIoError, name + ": read error: " + std::strerror(errno));
        eof = true;
      }
      have += got;
      bytes_read_ += got;
      if (options_.on_progress) options_.on_progress(bytes_read_);
    }
    const char* p = buf.data();
    const char* end = p + have;
    // In JSON Lines only \n ends a line (a \r is JSON whitespace); in text, \r does too (Python).
    const bool has_cr = !jsonl && std::memchr(p, '\r', have) != nullptr;
    while (p < end && !done_) {
      const char* nl;
      bool translated = false;
      if (!has_cr) {
        nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
        if (nl == nullptr) break;
      } else {
        nl = p;
        while (nl < end && *nl != '\n' && *nl != '\r') ++nl;
        if (nl == end) break;
        if (*nl == '\r') {
          // \r\n is one terminator; a \r at the end of the buffer has to wait for the next byte.
          if (nl + 1 == end && !eof) break;
          if (nl + 1 < end && nl[1] == '\n') ++nl;
          translated = true;
        }
      }
      Status s = handle_line(p, size_t(nl + 1 - p), translated);
      if (!s.ok()) return s;
      p = nl + 1;
    }
    if (eof) {
      if (p < end && !done_) {
        // The last line has no terminator (or is a lone trailing \r, handled above).
        Status s = handle_line(p, size_t(end - p), false);
        if (!s.ok()) return s;
      }
      break;
    }
    have = size_t(end - p);
    std::memmove(buf.data(), p, have);
  }
  return Status();
}

}  // namespace tokenmill
