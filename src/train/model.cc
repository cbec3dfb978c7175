// The tokenmill model file (format in train.h), the .tiktoken output, and atomic writes.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "tokenmill/detail/unicode_class.h"
#include "tokenmill/file_io.h"
#include "tokenmill/train.h"
#include "util/atomic_file.h"
#include "util/no_throw.h"
#include "util/sha256.h"

namespace tokenmill {

namespace {

constexpr std::string_view kMagic = "tokenmill-model";
// Version 2 ends in a checksum line; version 1 files (no checksum) are still read.
constexpr int kVersion = 2;
constexpr std::string_view kChecksumWord = "sha256 ";

Status parse_error(std::string_view source, size_t line, const std::string& what) {
  return Status(ErrorCode::kParseError, std::string(source) + ":" + std::to_string(line) + ": " + what);
}

bool parse_uint(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string BpeModel::to_model_file() const {
  std::string out;
  out += std::string(kMagic) + " " + std::to_string(kVersion) + "\n";
  out += "pattern " + base64_encode(pattern) + "\n";
  for (const auto& [token, id] : special_tokens) out += "special " + base64_encode(token) + " " + std::to_string(id) + "\n";
  out += "ranks " + std::to_string(ranks.size()) + "\n";
  out += ranks.to_tiktoken();
  // The checksum covers every byte before its line, so a flipped bit anywhere is refused on load instead
  // of giving other ids.
  out += std::string(kChecksumWord) + util::sha256_hex(out) + "\n";
  return out;
}

Result<BpeModel> BpeModel::parse_model_file(std::string_view contents, std::string_view source) try {
  BpeModel model;
  size_t pos = 0, line_no = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= contents.size()) return false;
    size_t nl = contents.find('\n', pos);
    if (nl == std::string_view::npos) nl = contents.size();
    *line = contents.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line.substr(0, kMagic.size()) != kMagic || line.size() <= kMagic.size() ||
      line[kMagic.size()] != ' ') {
    return parse_error(source, 1, "not a tokenmill model file (expected '" + std::string(kMagic) + " 1')");
  }
  uint64_t version;
  if (!parse_uint(line.substr(kMagic.size() + 1), &version) || version < 1 || version > kVersion) {
    return parse_error(source, 1,
                       "unsupported model file version '" + std::string(line.substr(kMagic.size() + 1)) +
                           "' (this tokenmill reads versions 1 to " + std::to_string(kVersion) + ")");
  }
  if (version >= 2) {
    // Last line: "sha256 <64 hex digits>" over everything before it.
    const size_t line_len = kChecksumWord.size() + 64 + 1;
    const size_t lines = size_t(std::count(contents.begin(), contents.end(), '\n'));
    if (contents.size() < line_len || contents.back() != '\n' ||
        contents.substr(contents.size() - line_len, kChecksumWord.size()) != kChecksumWord ||
        (contents.size() > line_len && contents[contents.size() - line_len - 1] != '\n')) {
      return parse_error(source, lines + (contents.empty() || contents.back() != '\n'),
                         "missing checksum line 'sha256 <hex>' at the end (truncated file?)");
    }
    const std::string_view body = contents.substr(0, contents.size() - line_len);
    const std::string_view stored = contents.substr(contents.size() - line_len + kChecksumWord.size(), 64);
    if (util::sha256_hex(body) != stored) {
      return parse_error(source, lines, "checksum mismatch: the file was damaged or edited");
    }
    contents = body;
  }
  bool have_pattern = false;
  while (true) {
    if (!next_line(&line)) return parse_error(source, line_no + 1, "missing 'ranks' line");
    size_t sp = line.find(' ');
    std::string_view word = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (word == "pattern") {
      auto p = base64_decode(rest);
      if (!p) return parse_error(source, line_no, "pattern is not valid base64");
      const size_t valid = detail::valid_utf8_prefix(reinterpret_cast<const unsigned char*>(p->data()), p->size());
      if (valid != p->size()) {
        return parse_error(source, line_no, "pattern is not valid UTF-8 (byte " + std::to_string(valid) + ")");
      }
      model.pattern = std::move(*p);
      have_pattern = true;
    } else if (word == "special") {
      size_t sp2 = rest.find(' ');
      uint64_t id;
      if (sp2 == std::string_view::npos || !parse_uint(rest.substr(sp2 + 1), &id)) {
        return parse_error(source, line_no, "expected 'special <base64> <id>'");
      }
      if (id >= kNoRank) {
        return parse_error(source, line_no,
                           "special token id " + std::string(rest.substr(sp2 + 1)) +
                               " is out of range (ids are below " + std::to_string(kNoRank) + ")");
      }
      auto t = base64_decode(rest.substr(0, sp2));
      if (!t || t->empty()) return parse_error(source, line_no, "special token is not valid base64");
      model.special_tokens.emplace_back(std::move(*t), Rank(id));
    } else if (word == "ranks") {
      uint64_t n;
      if (!parse_uint(rest, &n)) return parse_error(source, line_no, "expected 'ranks <count>'");
      if (!have_pattern) return parse_error(source, line_no, "missing 'pattern' line before 'ranks'");
      auto vocab = Vocabulary::parse_tiktoken(contents.substr(std::min(pos, contents.size())), source);
      if (!vocab.ok()) return vocab.status();
      if (vocab->size() != n) {
        return parse_error(source, line_no, "'ranks " + std::to_string(n) + "' but " + std::to_string(vocab->size()) +
                                                " rank lines follow (truncated file?)");
      }
      model.ranks = std::move(vocab).value();
      return model;
    } else {
      return parse_error(source, line_no, "unknown record '" + std::string(word) + "'");
    }
  }
} catch (...) {
  return util::exception_status([&] { return "parsing the model file " + std::string(source); });
}

Result<BpeModel> BpeModel::load_model_file(const std::string& path) try {
  auto contents = read_file(path, kMaxRankFileBytes, "model file");
  if (!contents.ok()) return contents.status();
  return parse_model_file(*contents, path);
} catch (...) {
  return util::exception_status([&] { return "loading the model file " + path; });
}

Status BpeModel::write_model_file(const std::string& path) const try {
  return write_file_atomically(path, to_model_file());
} catch (...) {
  return util::exception_status([&] { return "writing the model file " + path; });
}
Status BpeModel::write_tiktoken_file(const std::string& path) const try {
  return write_file_atomically(path, ranks.to_tiktoken());
} catch (...) {
  return util::exception_status([&] { return "writing the rank file " + path; });
}

EncodingSpec BpeModel::encoding_spec(std::string name) const {
  EncodingSpec spec;
  spec.name = std::move(name);
  spec.pattern = pattern;
  spec.ranks = ranks;
  spec.special_tokens = special_tokens;
  return spec;
}

Result<Encoding> BpeModel::encoding(std::string name) const try {
  return Encoding::create(encoding_spec(std::move(name)));
} catch (...) {
  return util::exception_status("building the encoding of a model");
}

}  // namespace tokenmill
