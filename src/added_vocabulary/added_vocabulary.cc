#include "added_vocabulary/added_vocabulary.h"

#include <algorithm>

namespace tokenmill::hf {

namespace {
#include "added_vocabulary/word_chars.inc"

bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

uint32_t decode_at(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  n = std::min(n, s.size() - i);
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return v;
}
// The character that ends at s[end) (end > 0).
uint32_t decode_before(std::string_view s, size_t end) {
  size_t i = end - 1;
  while (i > 0 && is_continuation(s[i])) --i;
  return decode_at(s, i);
}
size_t char_len_at(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  return std::min<size_t>(c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, s.size() - i);
}
}  // namespace

bool is_word_char(uint32_t c) {
  const auto* end = kWordCharRanges + sizeof(kWordCharRanges) / sizeof(kWordCharRanges[0]);
  const auto* it =
      std::upper_bound(kWordCharRanges, end, c, [](uint32_t v, const uint32_t(&r)[2]) { return v < r[0]; });
  return it != kWordCharRanges && c <= (*(it - 1))[1];
}

AddedMatcher::AddedMatcher(std::vector<Pattern> patterns) : patterns_(std::move(patterns)) {
  trie_.emplace_back();
  for (size_t p = 0; p < patterns_.size(); ++p) {
    const std::string& t = patterns_[p].text;
    if (t.empty()) continue;  // an empty token matches nothing in HF's automaton
    first_bytes_.insert(static_cast<unsigned char>(t[0]));
    uint32_t node = 0;
    for (unsigned char c : t) {
      auto& edges = trie_[node].edges;
      auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(c, uint32_t(0)),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
      if (it != edges.end() && it->first == c) {
        node = it->second;
      } else {
        uint32_t next = uint32_t(trie_.size());
        edges.insert(it, {c, next});
        trie_.emplace_back();
        node = next;
      }
    }
    // Two tokens with the same text: the first one listed keeps it.
    if (trie_[node].pattern < 0) trie_[node].pattern = int32_t(p);
  }
}

int32_t AddedMatcher::longest_at(std::string_view text, size_t pos) const {
  int32_t best = -1;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto& edges = trie_[node].edges;
    unsigned char c = static_cast<unsigned char>(text[i]);
    auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(c, uint32_t(0)),
                               [](const auto& a, const auto& b) { return a.first < b.first; });
    if (it == edges.end() || it->first != c) break;
    node = it->second;
    if (trie_[node].pattern >= 0) best = trie_[node].pattern;
  }
  return best;
}

void AddedMatcher::split(std::string_view text, std::vector<AddedSegment>& out, bool encode_special_tokens) const {
  out.clear();
  if (text.empty()) {
    out.push_back({std::nullopt, {0, 0}});
    return;
  }
  size_t start_offset = 0;
  size_t pos = 0;
  while ((pos = first_bytes_.next(text, pos)) < text.size()) {
    int32_t p = longest_at(text, pos);
    if (p < 0) {
      ++pos;
      continue;
    }
    const Pattern& pat = patterns_[size_t(p)];
    size_t start = pos, stop = pos + pat.text.size();
    pos = stop;  // the automaton goes on after the match even if the match is then discarded
    if (encode_special_tokens && pat.special) continue;
    if (pat.single_word) {
      bool start_space = start == 0 || !is_word_char(decode_before(text, start));
      bool stop_space = stop == text.size() || !is_word_char(decode_at(text, stop));
      if (!start_space || !stop_space) continue;
    }
    if (pat.lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t b = s - 1;
        while (b > 0 && is_continuation(text[b])) --b;
        if (!is_white_space(decode_at(text, b))) break;
        s = b;
      }
      start = std::max(s, start_offset);
    }
    if (pat.rstrip) {
      while (stop < text.size() && is_white_space(decode_at(text, stop))) stop += char_len_at(text, stop);
    }
    if (start_offset < start) out.push_back({std::nullopt, {uint32_t(start_offset), uint32_t(start)}});
    out.push_back({pat.id, {uint32_t(start), uint32_t(stop)}});
    start_offset = stop;
  }
  if (start_offset != text.size()) out.push_back({std::nullopt, {uint32_t(start_offset), uint32_t(text.size())}});
}

}  // namespace tokenmill::hf
