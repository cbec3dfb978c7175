#include <algorithm>
#include <atomic>
#include <cstdio>

#include "models/model.h"
#include "pre_tokenizers/pre_tokenizer.h"

namespace tokenmill::hf {

namespace {

// Decodes one UTF-8 character at s[i] (valid UTF-8 assumed: tokenizer.json strings are); returns its length.
size_t decode_char(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (i + n > s.size()) n = 1;
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *cp = v;
  return n;
}

size_t char_len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::min(n, s.size() - i);
}

}  // namespace

std::optional<std::string> byte_level_decode(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    uint32_t cp;
    i += decode_char(token, i, &cp);
    int b = byte_level_byte(cp);
    if (b < 0) return std::nullopt;
    out += char(b);
  }
  return out;
}

void BpeModel::PairTable::reserve(size_t n) {
  // At most three quarters full: a probe that misses (most lookups in a BPE run do) then stays within a
  // cache line or two, and a Llama 3 sized list takes 8 MiB instead of the 16 MiB of half full.
  size_t cap = 16;
  while (3 * cap < 4 * n) cap *= 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  unsigned bits = 12;
  while (bits < 21 && (size_t(1) << bits) < 8 * n) ++bits;
  filter_.assign((size_t(1) << bits) / 64, 0);
  filter_shift_ = 64 - bits;
}

void BpeModel::PairTable::insert_or_assign(uint32_t a, uint32_t b, Merge m) {
  const uint64_t key = (uint64_t(a) << 32) | b;
  const size_t bit = filter_bit(key);
  filter_[bit >> 6] |= uint64_t(1) << (bit & 63);
  for (size_t i = slot(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.merge.rank == kEmpty || s.key == key) {
      s.key = key;
      s.merge = m;
      return;
    }
  }
}

Result<BpeModel> BpeModel::create(BpeConfig config) {
  BpeModel m;
  // An empty prefix or suffix adds nothing to any unit (Qwen's and GPT-4o's files say "" for none).
  for (auto* affix : {&config.continuing_subword_prefix, &config.end_of_word_suffix}) {
    if (*affix && (*affix)->empty()) affix->reset();
  }
  size_t bytes = 0;
  uint32_t max_id = 0;
  for (const auto& [token, id] : config.vocab) {
    bytes += token.size();
    max_id = std::max(max_id, id);
  }
  if (bytes > util::StringIdMap::kMaxBytes) return Status(ErrorCode::kParseError, "model.vocab: over 4 GiB of tokens");
  m.json_vocab_.reserve(config.vocab.size(), bytes);
  if (config.byte_level) m.byte_vocab_.reserve(config.vocab.size(), bytes);
  const bool dense = max_id <= 4 * config.vocab.size() + 1024;
  if (dense) m.entry_of_id_.assign(size_t(max_id) + 1, kNoEntry);
  for (const auto& [token, id] : config.vocab) {
    uint32_t* entry = dense ? &m.entry_of_id_[id] : &m.sparse_entry_of_id_.emplace(id, kNoEntry).first->second;
    if (*entry != kNoEntry) {
      return Status(ErrorCode::kParseError, "model.vocab: id " + std::to_string(id) + " is given to both '" +
                                                std::string(m.json_vocab_.key(*entry)) + "' and '" +
                                                std::string(token) + "'");
    }
    *entry = m.json_vocab_.insert(token, id);
    // Tokens with a character outside the byte alphabet can never come out of a byte-level piece.
    if (config.byte_level) {
      if (auto raw = byte_level_decode(token)) m.byte_vocab_.insert(*raw, id);
    }
  }
  const size_t prefix_len = config.continuing_subword_prefix ? config.continuing_subword_prefix->size() : 0;
  if (config.merges.size() >= UINT32_MAX) return Status(ErrorCode::kParseError, "model.merges: too many merges");
  m.merges_.reserve(config.merges.size());
  std::string merged;
  for (size_t i = 0; i < config.merges.size(); ++i) {
    const std::string_view a = config.merges[i].first, b = config.merges[i].second;
    auto where = [&] {
      return "model.merges[" + std::to_string(i) + "] ('" + std::string(a) + " " + std::string(b) + "'): ";
    };
    const auto ia = m.json_vocab_.find(a);
    if (!ia) return Status(ErrorCode::kParseError, where() + "'" + std::string(a) + "' is not in the vocab");
    const auto ib = m.json_vocab_.find(b);
    if (!ib) return Status(ErrorCode::kParseError, where() + "'" + std::string(b) + "' is not in the vocab");
    if (b.size() < prefix_len) {
      return Status(ErrorCode::kParseError,
                    where() + "'" + std::string(b) + "' is shorter than continuing_subword_prefix");
    }
    merged.assign(a).append(std::string_view(b).substr(prefix_len));
    const auto in = m.json_vocab_.find(merged);
    if (!in) return Status(ErrorCode::kParseError, where() + "the merged token '" + merged + "' is not in the vocab");
    // A pair listed twice keeps its last position, as HF's map does.
    m.merges_.insert_or_assign(*ia, *ib, Merge{uint32_t(i), *in});
  }
  if (config.unk_token) {
    m.unk_id_ = m.json_vocab_.find(*config.unk_token);
    if (!m.unk_id_) {
      return Status(ErrorCode::kParseError, "model.unk_token: '" + *config.unk_token + "' is not in the vocab");
    }
  }
  if (config.byte_level) {
    // The model reads raw bytes, so the prefix and suffix (written in the byte alphabet) are read as bytes too.
    for (auto* affix : {&config.continuing_subword_prefix, &config.end_of_word_suffix}) {
      if (!*affix) continue;
      auto bytes = byte_level_decode(**affix);
      if (!bytes) {
        return Status(ErrorCode::kParseError, "model: continuing_subword_prefix / end_of_word_suffix '" + **affix +
                                                  "' has a character outside the byte-level alphabet");
      }
      **affix = std::move(*bytes);
    }
  }
  for (int b = 0; b < 256; ++b) {
    const char byte = char(b);
    const auto id = m.byte_vocab_.find(std::string_view(&byte, 1));
    m.byte_ids_[b] = config.byte_level && id ? *id : UINT32_MAX;
    if (b < 128) {
      const bool plain_chars = !config.byte_level && !config.continuing_subword_prefix && !config.end_of_word_suffix;
      const auto char_id = plain_chars ? m.json_vocab_.find(std::string_view(&byte, 1)) : std::nullopt;
      m.ascii_ids_[b] = char_id ? *char_id : UINT32_MAX;
    }
  }
  if (config.byte_level) {
    m.byte_pairs_.assign(256 * 256, Merge{UINT32_MAX, 0});
    for (int a = 0; a < 256; ++a) {
      for (int b = 0; b < 256 && m.byte_ids_[a] != UINT32_MAX; ++b) {
        if (m.byte_ids_[b] == UINT32_MAX) continue;
        if (const Merge* mg = m.find_merge(m.byte_ids_[a], m.byte_ids_[b]))
          m.byte_pairs_[size_t(a) * 256 + size_t(b)] = *mg;
      }
    }
  }
  if (config.byte_fallback) {
    m.byte_fallback_complete_ = true;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      m.byte_fallback_ids_[b] = m.json_vocab_.find(name).value_or(UINT32_MAX);
    }
  }
  static std::atomic<uint64_t> next_cache_id{1};
  m.cache_id_ = next_cache_id++;
  // Swapped out, not cleared: clear() keeps the capacity, tens of megabytes for a large merge list.
  decltype(config.vocab)().swap(config.vocab);
  decltype(config.merges)().swap(config.merges);
  m.config_ = std::move(config);
  return m;
}

std::optional<std::string_view> BpeModel::id_to_token(uint32_t id) const {
  uint32_t entry = kNoEntry;
  if (id < entry_of_id_.size()) {
    entry = entry_of_id_[id];
  } else if (auto it = sparse_entry_of_id_.find(id); it != sparse_entry_of_id_.end()) {
    entry = it->second;
  }
  if (entry == kNoEntry) return std::nullopt;
  return json_vocab_.key(entry);
}

void BpeModel::tokenize(std::string_view piece, std::vector<ModelToken>& out) const {
  // Real text repeats its pieces, so each thread keeps the tokens of the short pieces it has seen (HF keeps
  // a cache too; it changes nothing but the time). Bounded: cleared when full.
  constexpr size_t kMaxPiece = 64, kMaxEntries = 1 << 16;
  if (piece.size() > kMaxPiece) {
    tokenize_uncached(piece, out);
    return;
  }
  struct Cache {
    uint64_t owner = 0;
    std::unordered_map<std::string, std::vector<ModelToken>> map;
  };
  thread_local Cache cache;
  if (cache.owner != cache_id_) {
    cache.map.clear();
    cache.owner = cache_id_;
  }
  thread_local std::string key;
  key.assign(piece);
  auto it = cache.map.find(key);
  if (it != cache.map.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t first = out.size();
  tokenize_uncached(piece, out);
  if (cache.map.size() >= kMaxEntries) cache.map.clear();
  cache.map.emplace(key, std::vector<ModelToken>(out.begin() + long(first), out.end()));
}

void BpeModel::tokenize_ids(std::string_view piece, std::vector<uint32_t>& out) const {
  if (config_.ignore_merges) {
    if (auto id = unit_id(piece)) {
      out.push_back(*id);
      return;
    }
  }
  merge_ids(piece, out);
}

void BpeModel::merge_ids(std::string_view piece, std::vector<uint32_t>& out) const {
  if (config_.byte_level && piece.size() <= kShortPiece && !config_.continuing_subword_prefix &&
      !config_.end_of_word_suffix) {
    bool all = true;
    for (unsigned char c : piece) all = all && byte_ids_[c] != UINT32_MAX;
    if (all) {
      tokenize_short_bytes(piece, out);
      return;
    }
  }
  thread_local std::vector<ModelToken> tokens;
  tokens.clear();
  tokenize_uncached(piece, tokens);
  for (const ModelToken& t : tokens) out.push_back(t.id);
}

void BpeModel::tokenize_short_bytes(std::string_view piece, std::vector<uint32_t>& out) const {
  // The same order as the heap in tokenize_uncached: the lowest rank, leftmost on ties. For a short piece a
  // scan over the pair ranks beats the heap; long pieces keep the heap, which stays O(n log n).
  uint32_t ids[kShortPiece], ranks[kShortPiece], new_ids[kShortPiece];
  size_t n = piece.size();
  auto pair = [&](size_t i) {
    const Merge* mg = find_merge(ids[i], ids[i + 1]);
    ranks[i] = mg ? mg->rank : UINT32_MAX;
    new_ids[i] = mg ? mg->new_id : 0;
  };
  const auto* bytes = reinterpret_cast<const unsigned char*>(piece.data());
  for (size_t i = 0; i < n; ++i) ids[i] = byte_ids_[bytes[i]];
  for (size_t i = 0; i + 1 < n; ++i) {
    const Merge& mg = byte_pairs_[size_t(bytes[i]) * 256 + bytes[i + 1]];
    ranks[i] = mg.rank;
    new_ids[i] = mg.new_id;
  }
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == UINT32_MAX) break;
    ids[best] = new_ids[best];
    for (size_t i = best + 1; i + 1 < n; ++i) ids[i] = ids[i + 1];
    for (size_t i = best + 1; i + 2 < n; ++i) {
      ranks[i] = ranks[i + 1];
      new_ids[i] = new_ids[i + 1];
    }
    --n;
    if (best > 0) pair(best - 1);
    if (best + 1 < n) pair(best);
  }
  out.insert(out.end(), ids, ids + n);
}

void BpeModel::merge_short(std::vector<UnitSymbol>& syms, std::vector<ModelToken>& out) const {
  // tokenize_short_bytes' scan over the pair ranks for any short run of units (characters with byte
  // fallback, prefixes, suffixes): the heap's order, lowest rank and leftmost on ties, without the heap.
  uint32_t ranks[kShortUnits], new_ids[kShortUnits];
  size_t n = syms.size();
  auto pair = [&](size_t i) {
    const Merge* mg = find_merge(syms[i].id, syms[i + 1].id);
    ranks[i] = mg ? mg->rank : UINT32_MAX;
    new_ids[i] = mg ? mg->new_id : 0;
  };
  for (size_t i = 0; i + 1 < n; ++i) pair(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == UINT32_MAX) break;
    syms[best].id = new_ids[best];
    syms[best].len += syms[best + 1].len;
    for (size_t i = best + 1; i + 1 < n; ++i) syms[i] = syms[i + 1];
    for (size_t i = best + 1; i + 2 < n; ++i) {
      ranks[i] = ranks[i + 1];
      new_ids[i] = new_ids[i + 1];
    }
    --n;
    if (best > 0) pair(best - 1);
    if (best + 1 < n) pair(best);
  }
  for (size_t i = 0; i < n; ++i) out.push_back({syms[i].id, syms[i].begin, syms[i].begin + syms[i].len});
}

void BpeModel::tokenize_uncached(std::string_view piece, std::vector<ModelToken>& out) const {
  if (config_.ignore_merges) {
    if (auto id = unit_id(piece)) {
      out.push_back({*id, 0, uint32_t(piece.size())});
      return;
    }
  }
  // Reused by the thread: a long piece (CJK runs, whitespace in code) must not cost two allocations.
  thread_local std::vector<UnitSymbol> syms;
  syms.clear();
  syms.reserve(piece.size());
  // Offsets are the running sum of the symbol lengths, as HF's Word computes them (so a unit HF drops, or a
  // byte fallback over a prefix, shifts the offsets after it exactly as in HF).
  uint32_t cursor = 0;
  auto add = [&](uint32_t id, uint32_t len) {
    syms.push_back({id, cursor, len, int32_t(syms.size()) - 1, int32_t(syms.size()) + 1});
    cursor += len;
  };
  // A pending unknown (its length), fused with the next unknown when fuse_unk is set.
  bool have_unk = false;
  uint32_t unk_len = 0;
  // Byte-level with no prefix or suffix: a unit is one byte, and its token is byte_ids_'s (the same lookup).
  const bool plain_bytes = config_.byte_level && !config_.continuing_subword_prefix && !config_.end_of_word_suffix;
  thread_local std::string key;
  for (size_t i = 0; i < piece.size();) {
    if (plain_bytes) {
      if (const uint32_t id = byte_ids_[static_cast<unsigned char>(piece[i])]; id != UINT32_MAX) {
        if (have_unk) {
          add(*unk_id_, unk_len);
          have_unk = false;
        }
        add(id, 1);
        ++i;
        continue;
      }
    } else if (const auto c = static_cast<unsigned char>(piece[i]); c < 128 && ascii_ids_[c] != UINT32_MAX) {
      if (have_unk) {
        add(*unk_id_, unk_len);
        have_unk = false;
      }
      add(ascii_ids_[c], 1);
      ++i;
      continue;
    }
    const size_t n = config_.byte_level ? 1 : char_len(piece, i);
    const bool is_first = i == 0, is_last = i + n == piece.size();
    key.clear();
    if (!is_first && config_.continuing_subword_prefix) key += *config_.continuing_subword_prefix;
    key.append(piece.substr(i, n));
    if (is_last && config_.end_of_word_suffix) key += *config_.end_of_word_suffix;
    auto id = unit_id(key);
    if (id) {
      if (have_unk) {
        add(*unk_id_, unk_len);
        have_unk = false;
      }
      add(*id, uint32_t(n));
    } else {
      bool done = false;
      if (config_.byte_fallback) {
        // All bytes of the unit (prefix and suffix included, as HF does) or none.
        bool all = true;
        for (unsigned char c : key) all = all && byte_fallback_ids_[c] != UINT32_MAX;
        if (all) {
          for (unsigned char c : key) add(byte_fallback_ids_[c], 1);
          done = true;
        }
      }
      if (!done && config_.unk_token) {
        if (have_unk && config_.fuse_unk) {
          unk_len += uint32_t(n);
        } else {
          if (have_unk) add(*unk_id_, unk_len);
          have_unk = true;
          unk_len = uint32_t(n);
        }
      }
    }
    i += n;
  }
  if (have_unk) add(*unk_id_, unk_len);
  if (syms.empty()) return;
  if (syms.size() <= kShortUnits) {
    merge_short(syms, out);
    return;
  }
  syms.back().next = -1;

  // Lowest (rank, position) first, as HF's heap orders its merges.
  struct Entry {
    uint32_t rank;
    uint32_t pos;
    uint32_t new_id;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  // std::priority_queue's own algorithm (push_heap / pop_heap) on a vector the thread reuses.
  thread_local std::vector<Entry> heap;
  heap.clear();
  const auto push = [&](Entry e) {
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end(), std::greater<Entry>());
  };
  for (size_t k = 0; k + 1 < syms.size(); ++k) {
    if (const Merge* mg = find_merge(syms[k].id, syms[k + 1].id)) push({mg->rank, uint32_t(k), mg->new_id});
  }
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<Entry>());
    const Entry top = heap.back();
    heap.pop_back();
    UnitSymbol& s = syms[top.pos];
    if (s.len == 0 || s.next == -1) continue;
    UnitSymbol& right = syms[size_t(s.next)];
    const Merge* mg = find_merge(s.id, right.id);
    if (mg == nullptr || mg->new_id != top.new_id) continue;  // stale entry
    s.id = top.new_id;
    s.len += right.len;
    right.len = 0;
    s.next = right.next;
    if (s.next != -1) syms[size_t(s.next)].prev = int32_t(top.pos);
    if (s.prev != -1) {
      if (const Merge* p = find_merge(syms[size_t(s.prev)].id, s.id)) push({p->rank, uint32_t(s.prev), p->new_id});
    }
    if (s.next != -1) {
      if (const Merge* p = find_merge(s.id, syms[size_t(s.next)].id)) push({p->rank, top.pos, p->new_id});
    }
  }
  for (const UnitSymbol& s : syms) {
    if (s.len != 0) out.push_back({s.id, s.begin, s.begin + s.len});
  }
}

}  // namespace tokenmill::hf
