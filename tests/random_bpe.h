// Random byte-level BPE models for property tests: every byte a token (in GPT-2's byte alphabet, as
// tokenizer.json writes them), then merges of random pairs of existing tokens over a small alphabet, so
// that a few letters meet many merges: pairs listed out of the order BPE would build them, several pairs
// that make the same token, tokens that their own bytes never merge back into.
#pragma once

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pre_tokenizers/pre_tokenizer.h"

namespace tokenmill::testing {

struct RandomBpe {
  std::vector<std::pair<std::string, uint32_t>> vocab;  // byte-level alphabet
  std::vector<std::pair<std::string, std::string>> merges;
};

inline std::string byte_level(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += hf::byte_level_char(c);
  return out;
}

// `letters`: the bytes merges are made of (the rest of the 256 bytes stay single tokens).
inline RandomBpe random_byte_level_bpe(uint32_t seed, size_t n_merges, std::string_view letters = "ab c") {
  std::mt19937 rng(seed);
  RandomBpe m;
  std::vector<std::string> tokens;  // raw bytes, by id
  std::set<std::string> known;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string(1, char(b)));
    known.insert(tokens.back());
  }
  std::vector<std::string> pool(letters.size());
  for (size_t i = 0; i < letters.size(); ++i) pool[i] = std::string(1, letters[i]);
  std::set<std::pair<std::string, std::string>> listed;
  for (size_t tries = 0; m.merges.size() < n_merges && tries < 100 * n_merges; ++tries) {
    const std::string a = pool[rng() % pool.size()];
    const std::string b = pool[rng() % pool.size()];
    if (a.size() + b.size() > 12 || !listed.insert({a, b}).second) continue;
    const std::string ab = a + b;
    if (known.insert(ab).second) {
      tokens.push_back(ab);
      pool.push_back(ab);
    }
    m.merges.push_back({byte_level(a), byte_level(b)});
  }
  for (uint32_t id = 0; id < tokens.size(); ++id) m.vocab.push_back({byte_level(tokens[id]), id});
  return m;
}

// A random SentencePiece-style model (tokens are characters, not bytes): "<unk>" as id 0, the byte-fallback
// tokens <0x00>..<0xFF> as ids 1..256, then `characters`, then random merges over them. With
// `merge_unknowns`, "<unk>" and "<0xA9>" (é's last byte) take part in merges too, so an unknown character's
// token can join its neighbours.
inline RandomBpe random_character_bpe(uint32_t seed, size_t n_merges, const std::vector<std::string>& characters,
                                      bool merge_unknowns) {
  std::mt19937 rng(seed);
  RandomBpe m;
  std::set<std::string> known;
  auto add = [&](const std::string& token) {
    if (known.insert(token).second) m.vocab.push_back({token, uint32_t(m.vocab.size())});
  };
  add("<unk>");
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name);
  }
  std::vector<std::string> pool = characters;
  for (const std::string& c : characters) add(c);
  if (merge_unknowns) {
    pool.push_back("<unk>");
    pool.push_back("<0xA9>");
  }
  std::set<std::pair<std::string, std::string>> listed;
  for (size_t tries = 0; m.merges.size() < n_merges && tries < 100 * n_merges; ++tries) {
    const std::string a = pool[rng() % pool.size()];
    const std::string b = pool[rng() % pool.size()];
    if (a.size() + b.size() > 16 || !listed.insert({a, b}).second) continue;
    if (!known.contains(a + b)) {
      add(a + b);
      pool.push_back(a + b);
    }
    m.merges.push_back({a, b});
  }
  return m;
}

}  // namespace tokenmill::testing
