// HF tokenizer.json output (format and merge choice in hf_json.h).
#include "tokenmill/hf_json.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "tokenmill/encoding.h"
#include "util/atomic_file.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {

// GPT-2's bytes_to_unicode table: bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF map to themselves; the other 68
// bytes, in increasing order, to U+0100, U+0101, ...
struct ByteLevelTable {
  std::string chars[256];
  ByteLevelTable() {
    auto printable = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    int next = 0x100;
    for (int b = 0; b < 256; ++b) {
      int cp = printable(b) ? b : next++;
      std::string s;
      if (cp < 0x80) {
        s += char(cp);
      } else {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
      }
      chars[b] = s;
    }
  }
};

const ByteLevelTable& table() {
  static const ByteLevelTable t;
  return t;
}

// A JSON string literal. `s` must be valid UTF-8 (written through as is); control characters, '"' and
// '\\' are escaped.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const uint8_t u = uint8_t(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

bool valid_utf8(std::string_view s) { return utf8_replace_invalid(s) == s; }

// The two parts tokenmill's BPE rule reaches on `token` using only ranks < limit (or more or fewer parts
// when the token is not reachable that way). A heap over a linked list: O(n log n), so a token of a
// million bytes (trained on a million 'a') costs nothing noticeable.
std::vector<std::string_view> bpe_parts_below(const Vocabulary& ranks, std::string_view token, Rank limit) {
  const size_t n = token.size();
  std::vector<uint32_t> end(n), next(n), prev(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    end[i] = uint32_t(i + 1);
    next[i] = uint32_t(i + 1);
    prev[i] = uint32_t(i) - 1;  // wraps for i = 0; never read there
  }
  struct Cand {
    Rank rank;
    uint32_t start, mid, stop;  // the pair token[start, mid) + token[mid, stop)
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : start > o.start; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](uint32_t start) {
    if (start >= n || !alive[start]) return;
    const uint32_t mid = end[start];
    if (mid >= n) return;
    const uint32_t stop = end[mid];
    const Rank r = ranks.find_or_none(token.substr(start, stop - start));
    if (r != kNoRank && r < limit) heap.push(Cand{r, start, mid, stop});
  };
  for (uint32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    // Stale if either part changed since the candidate was queued.
    if (!alive[c.start] || end[c.start] != c.mid || !alive[c.mid] || end[c.mid] != c.stop) continue;
    alive[c.mid] = false;
    end[c.start] = c.stop;
    next[c.start] = c.stop;
    if (c.stop < n) prev[c.stop] = c.start;
    if (c.start > 0) push(prev[c.start]);
    push(c.start);
  }
  std::vector<std::string_view> parts;
  for (uint32_t i = 0; i < n; i = end[i]) parts.push_back(token.substr(i, end[i] - i));
  return parts;
}

}  // namespace

std::string byte_level_char(uint8_t b) { return table().chars[b]; }

std::string byte_level_string(std::string_view bytes) {
  const ByteLevelTable& t = table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.chars[uint8_t(c)];
  return out;
}

namespace {
// Every single byte is a token, at any rank. (The ranks may have gaps: p50k_base's 50256 is a special token.)
Status check_byte_level(const Vocabulary& ranks) {
  for (int b = 0; b < 256; ++b) {
    if (ranks.byte_rank(uint8_t(b)) == kNoRank) {
      return Status(ErrorCode::kInvalidArgument,
                    "not a byte-level BPE vocabulary: the single byte " + std::to_string(b) + " is no token");
    }
  }
  return Status();
}
}  // namespace

Result<std::vector<std::pair<Rank, Rank>>> derive_merges(const Vocabulary& ranks) try {
  if (Status s = check_byte_level(ranks); !s.ok()) return s;
  std::vector<std::pair<Rank, Rank>> merges;
  merges.reserve(ranks.size() - 256);
  for (Rank r = 0; r < ranks.rank_limit(); ++r) {
    if (!ranks.contains_rank(r)) continue;
    const std::string_view token = ranks.token_bytes(r);
    if (token.size() == 1) continue;
    auto parts = bpe_parts_below(ranks, token, r);
    if (parts.size() == 2) {
      merges.emplace_back(*ranks.find(parts[0]), *ranks.find(parts[1]));
      continue;
    }
    // Not reachable by the rank rule alone (possible in principle when training saw this token's bytes
    // cut differently by their context): the split into two earlier tokens with the smallest
    // (left, right) ranks.
    std::pair<Rank, Rank> best{kNoRank, kNoRank};
    for (size_t i = 1; i < token.size(); ++i) {
      Rank a = ranks.find_or_none(token.substr(0, i)), b = ranks.find_or_none(token.substr(i));
      if (a < r && b < r && std::make_pair(a, b) < best) best = {a, b};
    }
    if (best.first == kNoRank) {
      return Status(ErrorCode::kInvalidArgument, "rank " + std::to_string(r) +
                                                     " is not the concatenation of two lower-ranked tokens: not a "
                                                     "byte-level BPE vocabulary");
    }
    merges.push_back(best);
  }
  return merges;
} catch (...) {
  return util::exception_status("deriving the merges of a vocabulary");
}

Result<std::string> hf_tokenizer_json(const BpeModel& model, std::span<const std::pair<Rank, Rank>> merges) try {
  const Vocabulary& ranks = model.ranks;
  if (Status s = check_byte_level(ranks); !s.ok()) return s;
  // Merge k makes the k-th token of two or more bytes, in rank order.
  std::vector<Rank> made;
  made.reserve(ranks.size() - 256);
  for (Rank r = 0; r < ranks.rank_limit(); ++r) {
    if (ranks.contains_rank(r) && ranks.token_bytes(r).size() > 1) made.push_back(r);
  }
  if (merges.size() != made.size()) {
    return Status(ErrorCode::kInvalidArgument, std::to_string(ranks.size()) + " ranks need " +
                                                   std::to_string(made.size()) + " merges, got " +
                                                   std::to_string(merges.size()));
  }
  if (!valid_utf8(model.pattern)) return Status(ErrorCode::kInvalidArgument, "the split pattern is not valid UTF-8");

  std::vector<std::string> strings(ranks.rank_limit());
  std::unordered_map<std::string_view, Rank> by_string;
  for (Rank r = 0; r < ranks.rank_limit(); ++r) {
    if (!ranks.contains_rank(r)) continue;
    strings[r] = byte_level_string(ranks.token_bytes(r));
    by_string.emplace(strings[r], r);  // `strings` never reallocates: the views stay valid
  }
  for (size_t k = 0; k < merges.size(); ++k) {
    const auto [a, b] = merges[k];
    const Rank r = made[k];
    if (a >= r || b >= r || !ranks.contains_rank(a) || !ranks.contains_rank(b) ||
        std::string(ranks.token_bytes(a)) + std::string(ranks.token_bytes(b)) != ranks.token_bytes(r)) {
      return Status(ErrorCode::kInvalidArgument, "merge " + std::to_string(k) + " (" + std::to_string(a) + ", " +
                                                     std::to_string(b) + ") does not make rank " + std::to_string(r));
    }
  }
  for (const auto& [token, id] : model.special_tokens) {
    if (!valid_utf8(token)) {
      return Status(ErrorCode::kInvalidArgument, "special token with id " + std::to_string(id) +
                                                     " is not valid UTF-8 (tokenizer.json holds text)");
    }
    if (id < ranks.rank_limit() && ranks.contains_rank(id)) {
      return Status(ErrorCode::kInvalidArgument, "special token with id " + std::to_string(id) +
                                                     " overlaps the ranks (HF numbers added tokens after the vocabulary)");
    }
    if (by_string.count(token)) {
      return Status(ErrorCode::kInvalidArgument, "special token '" + token +
                                                     "' is also a vocabulary string in byte-level form; HF would give "
                                                     "it the vocabulary's id");
    }
  }
  // HF gives added tokens that are not in the model's vocabulary the ids vocab_size, vocab_size + 1, ... in
  // the order listed (it warns if the stored id differs), and those that are, the vocabulary's id. Special
  // ids that follow the ranks without gaps (a trained model's) are added tokens only; others (cl100k's
  // <|endoftext|> is 100257, after a gap at 100256) are also vocabulary entries at their ids, as HF's own
  // conversions of the OpenAI encodings write them.
  std::vector<std::pair<Rank, std::string>> specials;
  for (const auto& [token, id] : model.special_tokens) specials.emplace_back(id, token);
  std::sort(specials.begin(), specials.end());
  bool specials_in_vocab = ranks.rank_limit() != ranks.size();  // HF's vocab_size counts entries
  for (size_t i = 0; i < specials.size(); ++i) specials_in_vocab |= specials[i].first != ranks.size() + i;
  for (size_t i = 1; i < specials.size(); ++i) {
    if (specials[i].first == specials[i - 1].first) {
      return Status(ErrorCode::kInvalidArgument, "special tokens '" + specials[i - 1].second + "' and '" +
                                                     specials[i].second + "' have the same id " +
                                                     std::to_string(specials[i].first));
    }
  }

  std::string out;
  out.reserve(ranks.size() * 40 + 4096);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [";
  {
    const auto& sorted = specials;
    for (size_t i = 0; i < sorted.size(); ++i) {
      out += i ? ",\n    {" : "\n    {";
      out += "\"id\": " + std::to_string(sorted[i].first) + ", \"content\": ";
      append_json_string(out, sorted[i].second);
      out += ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
    }
    if (!sorted.empty()) out += "\n  ";
  }
  out += "],\n  \"normalizer\": null,\n  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [\n";
  out += "    {\"type\": \"Split\", \"pattern\": {\"Regex\": ";
  // HF's regex engine reads tiktoken's r50k and cl100k strings otherwise (pretokenize.h: kCl100kHfPattern).
  const std::string_view pattern = model.pattern == kCl100kPattern ? kCl100kHfPattern
                                   : model.pattern == kR50kPattern ? kR50kHfPattern
                                                                   : std::string_view(model.pattern);
  append_json_string(out, pattern);
  out += "}, \"behavior\": \"Isolated\", \"invert\": false},\n";
  out += "    {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n";
  out += "  \"post_processor\": null,\n";
  out += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n";
  out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n";
  out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n";
  out += "    \"byte_fallback\": false,\n    \"ignore_merges\": true,\n    \"vocab\": {";
  for (Rank r = 0, written = 0; r < ranks.rank_limit(); ++r) {
    if (!ranks.contains_rank(r)) continue;
    out += written++ ? ",\n      " : "\n      ";
    append_json_string(out, strings[r]);
    out += ": " + std::to_string(r);
  }
  if (specials_in_vocab) {
    for (const auto& [id, token] : specials) {
      out += ",\n      ";
      append_json_string(out, token);
      out += ": " + std::to_string(id);
    }
  }
  out += "\n    },\n    \"merges\": [";
  for (size_t k = 0; k < merges.size(); ++k) {
    out += k ? ",\n      [" : "\n      [";
    append_json_string(out, strings[merges[k].first]);
    out += ", ";
    append_json_string(out, strings[merges[k].second]);
    out += "]";
  }
  out += merges.empty() ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n";
  return out;
} catch (...) {
  return util::exception_status("making tokenizer.json");
}

Result<std::string> encoding_tokenizer_json(const Encoding& encoding) try {
  BpeModel model{encoding.pattern(), encoding.ranks(), encoding.special_tokens()};
  auto merges = derive_merges(model.ranks);
  if (!merges.ok()) return Status(merges.status().code(), encoding.name() + ": " + merges.error());
  auto json = hf_tokenizer_json(model, *merges);
  if (!json.ok()) return Status(json.status().code(), encoding.name() + ": " + json.error());
  return json;
} catch (...) {
  return util::exception_status([&] { return "making the tokenizer.json of " + encoding.name(); });
}

Status write_hf_tokenizer_json(const BpeModel& model, std::span<const std::pair<Rank, Rank>> merges,
                               const std::string& path) try {
  auto json = hf_tokenizer_json(model, merges);
  if (!json.ok()) return Status(json.status().code(), path + ": " + json.error());
  return write_file_atomically(path, *json);
} catch (...) {
  return util::exception_status([&] { return "writing " + path; });
}

}  // namespace tokenmill
