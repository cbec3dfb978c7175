// Documents from byte sources: lines, whole files, JSON Lines. Each splitter reads decompressed blocks and
// pushes documents, in order, into a DatasetWriter; only the current block and the line being completed
// are in memory.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "dataset/byte_source.h"
#include "tokenmill/dataset.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {

constexpr size_t kBlock = size_t(1) << 20;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// What a "line" is, for line numbers and for where a cluster unit may start (tokenmill.cluster's plan cuts
// the same way):
//   text lines   Python's file iteration, `for line in open(path)`: universal newlines, so "\n", "\r\n" and
//                a lone "\r" each end one line (what Python's enumerate(open(path), 1) numbers);
//   JSON Lines   the JSON Lines format (jsonlines.org; pandas.read_json(lines=True), pyarrow.json and so HF
//                datasets): only "\n" ends a record, a "\r" is JSON whitespace inside it, so line N is
//                data.split(b"\n")[N - 1]. The training reader (tokenmill count / train) counts the same.
// Lines in the first `offset` bytes of a file, counted that way. Only an error message needs it (the line of
// a record in a cluster unit that starts at `offset`), so the usual path never reads what the unit does not
// own.
uint64_t lines_before(const std::string& path, uint64_t offset, bool universal_newlines) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  uint64_t lines = 0;
  bool cr = false;  // the byte before was a "\r" (universal newlines): it ends a line unless "\n" follows
  char buf[1 << 16];
  while (offset > 0) {
    const size_t n = std::fread(buf, 1, size_t(std::min<uint64_t>(offset, sizeof buf)), f);
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (c == '\n' || cr) ++lines;  // "\r\n" is counted once, at its "\n"
      cr = universal_newlines && c == '\r';
    }
    offset -= n;
  }
  if (cr && std::fgetc(f) != '\n') ++lines;
  std::fclose(f);
  return lines;
}

class Reader {
 public:
  // `begin`: where in the file this reader starts (a cluster unit); line numbers count from the file's start.
  Reader(dataset::ByteSource& src, const std::string& path, const std::string& name, uint64_t begin,
         const TokenizeOptions& opt, DatasetWriter& out, uint64_t bytes_before, bool universal_newlines)
      : src_(src),
        path_(path),
        name_(name),
        begin_(begin),
        opt_(opt),
        out_(out),
        bytes_before_(bytes_before),
        universal_newlines_(universal_newlines) {}

  // Next block appended to buf_; false at the end of the input.
  Status more(bool* got) {
    size_t before = buf_.size();
    if (Status s = src_.read(buf_, kBlock); !s.ok()) return s;
    out_.set_bytes_read(bytes_before_ + src_.raw_bytes());
    *got = buf_.size() > before;
    return Status();
  }

  // Python's universal newlines: "\n", "\r\n" and a lone "\r" end a line, which is yielded with "\n".
  Status lines() {
    bool eof = false;
    size_t pos = 0;
    uint64_t line_no = 0;
    std::string doc;
    while (true) {
      size_t i = pos;
      for (; i < buf_.size(); ++i) {
        char c = buf_[i];
        if (c != '\n' && c != '\r') continue;
        if (c == '\r' && i + 1 == buf_.size() && !eof) break;  // may be the first half of \r\n
        std::string_view content(buf_.data() + pos, i - pos);
        size_t next = i + 1;
        if (c == '\r' && next < buf_.size() && buf_[next] == '\n') ++next;
        ++line_no;
        if (c == '\n') {
          if (Status s = out_.add_document(std::string_view(buf_.data() + pos, i + 1 - pos), false, line_no); !s.ok()) {
            return s;
          }
        } else {
          doc.assign(content);
          doc += '\n';
          if (Status s = out_.add_document(doc, false, line_no); !s.ok()) return s;
        }
        pos = next;
        i = next - 1;
      }
      if (eof) {
        if (pos < buf_.size()) {
          if (Status s = out_.add_document(std::string_view(buf_).substr(pos), false, line_no + 1); !s.ok()) return s;
        }
        return Status();
      }
      buf_.erase(0, pos);
      pos = 0;
      bool got = false;
      if (Status s = more(&got); !s.ok()) return s;
      eof = !got;
    }
  }

  // The whole file as Python's open(path).read() gives it (universal newlines).
  Status whole() {
    bool got = true;
    while (got) {
      if (Status s = more(&got); !s.ok()) return s;
    }
    std::string doc;
    doc.reserve(buf_.size());
    for (size_t i = 0; i < buf_.size(); ++i) {
      if (buf_[i] == '\r') {
        doc += '\n';
        if (i + 1 < buf_.size() && buf_[i + 1] == '\n') ++i;
      } else {
        doc += buf_[i];
      }
    }
    buf_.clear();
    return out_.add_document(doc, false, 1);
  }

  // One JSON object per "\n"-terminated line ("\r" is JSON whitespace, see lines_before); blank lines are
  // skipped but counted.
  Status jsonl() {
    bool eof = false;
    size_t pos = 0;
    uint64_t line_no = 0;
    while (true) {
      while (true) {
        size_t nl = buf_.find('\n', pos);
        if (nl == std::string::npos) {
          if (!eof || pos == buf_.size()) break;
          nl = buf_.size();
        }
        ++line_no;
        if (Status s = record(std::string_view(buf_).substr(pos, nl - pos), line_no); !s.ok()) return s;
        pos = nl == buf_.size() ? nl : nl + 1;
      }
      if (eof) return Status();
      buf_.erase(0, pos);
      pos = 0;
      bool got = false;
      if (Status s = more(&got); !s.ok()) return s;
      eof = !got;
    }
  }

 private:
  Status record(std::string_view line, uint64_t line_no) {
    size_t k = 0;
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) ++k;
    if (k == line.size()) return Status();
    JsonlDocument& doc = doc_;
    parse_jsonl_document(line, opt_.jsonl_field, doc);
    if (doc.error != JsonlError::kNone) {
      if (opt_.skip_bad) {
        out_.add_skipped();
        return Status();
      }
      return Status(ErrorCode::kParseError, name_ + ":" + std::to_string(file_line(line_no)) + ": " + doc.message);
    }
    return out_.add_document(doc.text, doc.repaired, line_no);
  }

  uint64_t file_line(uint64_t line_in_range) const {
    return begin_ == 0 ? line_in_range : lines_before(path_, begin_, universal_newlines_) + line_in_range;
  }

  dataset::ByteSource& src_;
  const std::string& path_;
  const std::string& name_;
  uint64_t begin_;
  const TokenizeOptions& opt_;
  DatasetWriter& out_;
  uint64_t bytes_before_;
  bool universal_newlines_;
  std::string buf_;
  JsonlDocument doc_;  // the record being parsed: its text buffer is reused from line to line
};

}  // namespace

DocumentFormat document_format_for(std::string_view path) {
  std::string_view p = path;
  for (std::string_view z : {".gz", ".zst", ".zstd"}) {
    if (ends_with(p, z)) {
      p.remove_suffix(z.size());
      break;
    }
  }
  for (std::string_view j : {".jsonl", ".json", ".ndjson"}) {
    if (ends_with(p, j)) return DocumentFormat::kJsonl;
  }
  return DocumentFormat::kLines;
}

Result<uint64_t> read_documents(const std::string& path, size_t input_index, uint64_t bytes_before,
                                const TokenizeOptions& options, DatasetWriter& writer, uint64_t begin,
                                uint64_t end) try {
  auto src = dataset::open_byte_source(path, begin, end);
  if (!src.ok()) return src.status();
  const std::string name = path == "-" ? "standard input" : path;
  const DocumentFormat f =
      options.input_format == DocumentFormat::kAuto ? document_format_for(path) : options.input_format;
  const bool universal_newlines = f != DocumentFormat::kJsonl;
  Reader reader(**src, path, name, begin, options, writer, bytes_before, universal_newlines);
  if (begin == 0) {
    writer.begin_source(name);
  } else {
    writer.begin_source(name, [path, begin, universal_newlines](uint64_t line) {
      return lines_before(path, begin, universal_newlines) + line;
    });
  }
  Status s;
  switch (f) {
    case DocumentFormat::kAuto:
    case DocumentFormat::kLines:
      s = reader.lines();
      break;
    case DocumentFormat::kWhole:
      s = reader.whole();
      break;
    case DocumentFormat::kJsonl:
      s = reader.jsonl();
      break;
  }
  if (!s.ok()) return s;
  auto digest = (*src)->sha256();
  if (!digest.ok()) return digest.status();
  writer.finish_input(input_index, std::move(*digest));
  return (*src)->raw_bytes();
} catch (...) {
  return util::exception_status([&] { return "reading " + path; });
}

Result<TokenizeSummary> tokenize_files(const Encoding& encoding, std::string tokenizer_name,
                                       std::span<const std::string> inputs, const TokenizeOptions& options) try {
  return tokenize_files(DatasetTokenizer::of(encoding, std::move(tokenizer_name)), inputs, options);
} catch (...) {
  return util::exception_status("tokenizing the inputs");
}

Result<TokenizeSummary> tokenize_files(DatasetTokenizer tokenizer, std::span<const std::string> inputs,
                                       const TokenizeOptions& options) try {
  std::vector<InputInfo> infos;
  for (const std::string& path : inputs) {
    InputInfo info;
    info.path = path;
    if (path != "-") {
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec)) return Status(ErrorCode::kIoError, path + ": is a directory");
      info.size = std::filesystem::file_size(path, ec);
      if (ec) return Status(ErrorCode::kIoError, path + ": cannot open for reading: " + ec.message());
    }
    infos.push_back(std::move(info));
  }
  auto writer = DatasetWriter::open(std::move(tokenizer), infos, options);
  if (!writer.ok()) return writer.status();
  if (writer->already_complete()) return writer->finish();
  uint64_t bytes = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto read = read_documents(inputs[i], i, bytes, options, *writer);
    if (!read.ok()) return read.status();
    bytes += read.value();
  }
  return writer->finish();
} catch (...) {
  return util::exception_status("tokenizing the inputs");
}

}  // namespace tokenmill
