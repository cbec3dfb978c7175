#include "tokenmill/id_format.h"
#include "util/no_throw.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>

namespace tokenmill {

std::string ids_to_text(std::span<const Rank> ids) {
  std::string out;
  out.reserve(ids.size() * 6 + 1);
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    int n = std::snprintf(buf, sizeof buf, "%u", ids[i]);
    out.append(buf, size_t(n));
  }
  out += '\n';
  return out;
}

std::string ids_to_binary(std::span<const Rank> ids) {
  std::string out(ids.size() * 4, '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    Rank v = ids[i];
    out[4 * i] = char(v & 0xFF);
    out[4 * i + 1] = char((v >> 8) & 0xFF);
    out[4 * i + 2] = char((v >> 16) & 0xFF);
    out[4 * i + 3] = char(v >> 24);
  }
  return out;
}

Result<std::vector<Rank>> parse_ids_binary(std::string_view data, std::string_view source) try {
  if (data.size() % 4 != 0) {
    return Status(ErrorCode::kParseError, std::string(source) + ": binary ids must be a multiple of 4 bytes, got " +
                                              std::to_string(data.size()));
  }
  std::vector<Rank> ids(data.size() / 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = Rank(uint8_t(data[4 * i])) | (Rank(uint8_t(data[4 * i + 1])) << 8) |
             (Rank(uint8_t(data[4 * i + 2])) << 16) | (Rank(uint8_t(data[4 * i + 3])) << 24);
  }
  return ids;
} catch (...) {
  return util::exception_status([&] { return "reading the ids of " + std::string(source); });
}

namespace {

bool is_separator(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == '[' || c == ']';
}

}  // namespace

Result<std::vector<Rank>> parse_ids_text(std::string_view data, std::string_view source) try {
  std::vector<Rank> ids;
  size_t i = 0;
  while (i < data.size()) {
    if (is_separator(data[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    uint64_t v = 0;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9' && v <= UINT32_MAX)
      v = v * 10 + uint64_t(data[i++] - '0');
    if (i == start || v > UINT32_MAX ||
        (i < data.size() && !std::isspace(uint8_t(data[i])) && data[i] != ',' && data[i] != ']')) {
      const size_t line = 1 + size_t(std::count(data.begin(), data.begin() + long(start), '\n'));
      return Status(ErrorCode::kParseError, std::string(source) + ":" + std::to_string(line) + ": not a token id: '" +
                                                std::string(data.substr(start, 20)) + "'");
    }
    ids.push_back(Rank(v));
  }
  return ids;
} catch (...) {
  return util::exception_status([&] { return "reading the ids of " + std::string(source); });
}

}  // namespace tokenmill
