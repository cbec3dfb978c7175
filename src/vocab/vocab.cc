#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "tokenmill/file_io.h"
#include "tokenmill/vocab.h"
#include "util/no_throw.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace tokenmill {

namespace detail {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugeMin = size_t(1) << 20;
size_t huge_rounded(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }
}  // namespace

void* allocate_table(size_t bytes) {
  if (bytes < kHugeMin) return ::operator new(bytes);
  void* p = std::aligned_alloc(kHugePage, huge_rounded(bytes));
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, huge_rounded(bytes), MADV_HUGEPAGE);  // advice only: without THP this is plain memory
#endif
  return p;
}

void free_table(void* p, size_t bytes) {
  if (bytes < kHugeMin) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}

}  // namespace detail

namespace {

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr auto make_decode_table() {
  struct T {
    int8_t v[256];
  } t{};
  for (auto& x : t.v) x = -1;
  for (int i = 0; i < 64; ++i) t.v[uint8_t(kBase64Alphabet[i])] = int8_t(i);
  return t;
}
constexpr auto kBase64Decode = make_decode_table();

std::string describe_bytes(std::string_view bytes) {
  std::string out = "'";
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kBase64Alphabet[v >> 18];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kBase64Alphabet[v >> 18];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return std::nullopt;  // data after padding
      v[k] = kBase64Decode.v[uint8_t(c)];
      if (v[k] < 0) return std::nullopt;
    }
    uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += char(w >> 16);
    if (pad < 2) out += char((w >> 8) & 0xFF);
    if (pad < 1) out += char(w & 0xFF);
  }
  return out;
}

Status Vocabulary::insert_all(std::vector<std::pair<std::string, Rank>>& ranks, std::string_view source,
                              const std::vector<size_t>* lines) {
  auto where = [&](size_t i) {
    std::string s(source);
    if (lines) {
      // Two appends, not `":" + std::to_string(...)`: GCC 12 warns -Wrestrict (a false positive) on that.
      s += ':';
      s += std::to_string((*lines)[i]);
    }
    return s;
  };
  if (ranks.empty()) return Status(ErrorCode::kParseError, std::string(source) + ": no tokens");
  Rank max_rank = 0;
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (ranks[i].first.empty()) return Status(ErrorCode::kParseError, where(i) + ": empty token");
    if (ranks[i].second == kNoRank) return Status(ErrorCode::kParseError, where(i) + ": rank too large");
    max_rank = std::max(max_rank, ranks[i].second);
  }
  // Ranks may have gaps (OpenAI's p50k_base file skips 50256, which <|endoftext|> fills); Encoding checks
  // that special tokens fill every gap. Duplicates are errors.
  if (max_rank > 4 * ranks.size() + 1024) {
    return Status(ErrorCode::kParseError, std::string(source) + ": rank " + std::to_string(max_rank) +
                                              " is far beyond the " + std::to_string(ranks.size()) + " tokens");
  }
  std::vector<uint32_t> index(size_t(max_rank) + 1, UINT32_MAX);
  for (size_t i = 0; i < ranks.size(); ++i) {
    uint32_t& slot = index[ranks[i].second];
    if (slot != UINT32_MAX) {
      return Status(ErrorCode::kParseError, where(i) + ": duplicate rank " + std::to_string(ranks[i].second) +
                                                " (first at " + where(slot) + ")");
    }
    slot = uint32_t(i);
  }
  size_t total = 0;
  for (auto& [bytes, rank] : ranks) total += bytes.size();
  if (total >= UINT32_MAX) return Status(ErrorCode::kParseError, std::string(source) + ": vocabulary too large");
  arena_.clear();
  arena_.reserve(total);
  offsets_.assign(index.size() + 1, 0);
  for (size_t r = 0; r < index.size(); ++r) {
    offsets_[r] = uint32_t(arena_.size());
    if (index[r] != UINT32_MAX) arena_ += ranks[index[r]].first;
  }
  offsets_[index.size()] = uint32_t(arena_.size());
  // Load factor <= 1/2 keeps probe chains short; 16-byte slots and their 8-byte tails make that ~6 MB
  // for cl100k.
  size_t capacity = 16;
  while (capacity < ranks.size() * 2) capacity *= 2;
  slots_.assign(capacity, Slot{0, 0, 0});
  tails_.assign(capacity, 0);
  mask_ = capacity - 1;
  filter_.assign(size_t(1) << (kFilterBits - 6), 0);
  for (Rank r = 0; r < index.size(); ++r) {
    if (index[r] == UINT32_MAX) continue;
    std::string_view bytes = token_bytes(r);
    uint64_t head = key_head(bytes.data(), bytes.size());
    if (find_or_none(bytes) != kNoRank) {
      Rank first = find_or_none(bytes);
      return Status(ErrorCode::kParseError, where(index[r]) + ": duplicate token " + describe_bytes(bytes) +
                                                " (first at " + where(index[first]) + ")");
    }
    const uint64_t hash = hash_bytes(bytes.data(), bytes.size(), head);
    uint64_t i = hash & mask_;
    while (slots_[i].len != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{head, uint32_t(bytes.size()), r};
    if (bytes.size() > 8) std::memcpy(&tails_[i], bytes.data() + bytes.size() - 8, 8);
    const uint64_t bit = filter_bit(hash);
    filter_[bit >> 6] |= uint64_t(1) << (bit & 63);
  }
  size_ = ranks.size();
  source_ = std::string(source);
  byte_pair_rank_.assign(65536, kNoRank);
  for (int a = 0; a < 256; ++a) {
    char one = char(a);
    byte_rank_[a] = find_or_none(std::string_view(&one, 1));
    for (int b = 0; b < 256; ++b) {
      char two[2] = {char(a), char(b)};
      byte_pair_rank_[size_t(a) << 8 | size_t(b)] = find_or_none(std::string_view(two, 2));
    }
  }
  return Status();
}

Result<Vocabulary> Vocabulary::parse_tiktoken(std::string_view contents, std::string_view source_name) try {
  std::vector<std::pair<std::string, Rank>> ranks;
  std::vector<size_t> lines;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t eol = contents.find('\n', pos);
    if (eol == std::string_view::npos) eol = contents.size();
    std::string_view line = contents.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto where = [&] { return std::string(source_name) + ":" + std::to_string(line_no); };
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 == line.size()) {
      return Status(ErrorCode::kParseError, where() + ": expected 'base64-token rank', got '" +
                                                std::string(line.substr(0, 80)) + "'");
    }
    std::string_view token_text = line.substr(0, space);
    std::string_view rank_text = line.substr(space + 1);
    auto bytes = base64_decode(token_text);
    if (!bytes) {
      return Status(ErrorCode::kParseError,
                    where() + ": invalid base64 token '" + std::string(token_text.substr(0, 80)) + "'");
    }
    uint64_t rank = 0;
    auto [end, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size() || rank >= kNoRank) {
      return Status(ErrorCode::kParseError,
                    where() + ": rank is not a number below 2^32-1: '" + std::string(rank_text.substr(0, 40)) + "'");
    }
    ranks.emplace_back(std::move(*bytes), Rank(rank));
    lines.push_back(line_no);
  }
  Vocabulary vocab;
  Status s = vocab.insert_all(ranks, source_name, &lines);
  if (!s.ok()) return s;
  return vocab;
} catch (...) {
  return util::exception_status([&] { return "parsing the rank file " + std::string(source_name); });
}

Result<Vocabulary> Vocabulary::load_tiktoken_file(const std::string& path) try {
  auto contents = read_file(path, kMaxRankFileBytes, "rank file");
  if (!contents.ok()) return contents.status();
  return parse_tiktoken(*contents, path);
} catch (...) {
  return util::exception_status([&] { return "loading the rank file " + path; });
}

Result<Vocabulary> Vocabulary::from_ranks(std::vector<std::pair<std::string, Rank>> ranks) try {
  Vocabulary vocab;
  Status s = vocab.insert_all(ranks, "ranks", nullptr);
  if (!s.ok()) return s;
  return vocab;
} catch (...) {
  return util::exception_status("building a vocabulary");
}

std::string Vocabulary::to_tiktoken() const {
  std::string out;
  for (Rank r = 0; r < rank_limit(); ++r) {
    if (!contains_rank(r)) continue;
    out += base64_encode(token_bytes(r));
    out += ' ';
    out += std::to_string(r);
    out += '\n';
  }
  return out;
}

}  // namespace tokenmill
