// The tokenmill model file (format in train.h), the .tiktoken output, and atomic writes.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tokenmill/train.h"
#include "util/atomic_file.h"

namespace tokenmill {

namespace {

constexpr std::string_view kMagic = "tokenmill-model";
constexpr int kVersion = 1;

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
  return out;
}

Result<BpeModel> BpeModel::parse_model_file(std::string_view contents, std::string_view source) {
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
  if (!parse_uint(line.substr(kMagic.size() + 1), &version) || version != kVersion) {
    return parse_error(source, 1, "unsupported model file version '" + std::string(line.substr(kMagic.size() + 1)) +
                                      "' (this tokenmill reads version " + std::to_string(kVersion) + ")");
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
      model.pattern = std::move(*p);
      have_pattern = true;
    } else if (word == "special") {
      size_t sp2 = rest.find(' ');
      uint64_t id;
      if (sp2 == std::string_view::npos || !parse_uint(rest.substr(sp2 + 1), &id) || id > UINT32_MAX) {
        return parse_error(source, line_no, "expected 'special <base64> <id>'");
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
}

Result<BpeModel> BpeModel::load_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIoError, path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, path + ": read error");
  return parse_model_file(ss.str(), path);
}

Status BpeModel::write_model_file(const std::string& path) const { return write_file_atomically(path, to_model_file()); }
Status BpeModel::write_tiktoken_file(const std::string& path) const {
  return write_file_atomically(path, ranks.to_tiktoken());
}

EncodingSpec BpeModel::encoding_spec(std::string name) const {
  EncodingSpec spec;
  spec.name = std::move(name);
  spec.pattern = pattern;
  spec.ranks = ranks;
  spec.special_tokens = special_tokens;
  return spec;
}

Result<Encoding> BpeModel::encoding(std::string name) const { return Encoding::create(encoding_spec(std::move(name))); }

}  // namespace tokenmill
