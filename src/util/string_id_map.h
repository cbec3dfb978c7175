// Strings to ids, for vocabularies of a few hundred thousand tokens that are built once and then only read.
//
// Why not std::unordered_map<std::string, uint32_t>: a model's load resolves every merge by three vocabulary
// lookups, and a node-based map costs an allocation per token and a cache miss per node (bucket, node,
// then the string when it is longer than the small-string buffer). That was most of the load time of a
// tokenizer.json and a third of its memory. Here the keys sit end to end in one arena, the entries in one
// array, and the index is an open-addressing array of 32-bit entry numbers kept at most half full, which
// also stores no hash: the entry keeps it, so a probe compares hashes before it touches a key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmill::util {

class StringIdMap {
 public:
  static constexpr size_t kMaxBytes = UINT32_MAX;  // keys' total size: offsets are 32-bit

  void reserve(size_t entries, size_t bytes) {
    entries_.reserve(entries);
    arena_.reserve(bytes);
    if (2 * entries > slots_.size()) rehash(2 * entries);
  }

  // Appends an entry for (key, id) and returns its number. Only the first entry of a key is found by `find`;
  // a later one is kept (it is still an id's token) but `indexed(entry)` says it is shadowed. The caller
  // keeps the keys' total size within kMaxBytes.
  uint32_t insert(std::string_view key, uint32_t id) {
    if (2 * (entries_.size() + 1) > slots_.size()) rehash(2 * (entries_.size() + 1));
    const uint32_t hash = hash_of(key);
    const uint32_t entry = uint32_t(entries_.size());
    size_t i = hash & mask_;
    bool shadowed = false;
    for (; slots_[i] != 0; i = (i + 1) & mask_) {
      const Entry& e = entries_[slots_[i] - 1];
      if (e.hash == hash && this->key(e) == key) {
        shadowed = true;
        break;
      }
    }
    entries_.push_back({uint32_t(arena_.size()), uint32_t(key.size()), id, hash, !shadowed});
    arena_.append(key);
    if (!shadowed) {
      slots_[i] = entry + 1;
      ++size_;
    }
    return entry;
  }

  std::optional<uint32_t> find(std::string_view key) const {
    const uint32_t hash = hash_of(key);
    for (size_t i = hash & mask_; slots_[i] != 0; i = (i + 1) & mask_) {
      const Entry& e = entries_[slots_[i] - 1];
      if (e.hash == hash && this->key(e) == key) return e.id;
    }
    return std::nullopt;
  }
  bool contains(std::string_view key) const { return find(key).has_value(); }

  size_t entries() const { return entries_.size(); }
  size_t size() const { return size_; }  // keys that `find` finds
  std::string_view key(uint32_t entry) const { return key(entries_[entry]); }
  uint32_t id(uint32_t entry) const { return entries_[entry].id; }
  bool indexed(uint32_t entry) const { return entries_[entry].indexed; }
  size_t bytes() const { return arena_.size(); }

  // Each (key, id) that `find` finds, in insertion order.
  template <class F>
  void for_each(F&& f) const {
    for (const Entry& e : entries_) {
      if (e.indexed) f(key(e), e.id);
    }
  }

 private:
  struct Entry {
    uint32_t offset, length, id, hash;
    bool indexed;
  };
  static uint32_t hash_of(std::string_view key) {
    const uint64_t h = std::hash<std::string_view>{}(key);
    return uint32_t(h ^ (h >> 32));
  }
  std::string_view key(const Entry& e) const { return std::string_view(arena_).substr(e.offset, e.length); }
  void rehash(size_t at_least) {
    size_t cap = 16;
    while (cap < at_least) cap *= 2;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = 0;
    for (uint32_t n = 0; n < entries_.size(); ++n) {
      if (!entries_[n].indexed) continue;
      size_t i = entries_[n].hash & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = n + 1;
      ++size_;
    }
  }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_ = std::vector<uint32_t>(1, 0);  // entry + 1; 0 is empty
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace tokenmill::util
