// Shared helpers for the C++ tests: real encodings from the verified cache, seeded random inputs.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tokenmill/encoding.h"
#include "util/utf8.h"

namespace tokenmill::testing {

// The built-in encodings, loaded from TOKENMILL_CACHE_DIR without network (the test command fetches
// them first). Missing files fail the test rather than skip it: a skipped parity test proves nothing.
inline const Encoding& builtin(const std::string& name) {
  static std::map<std::string, Encoding>* cache = new std::map<std::string, Encoding>();
  auto it = cache->find(name);
  if (it == cache->end()) {
    LoadOptions options;
    options.fetch_if_missing = false;
    auto enc = Encoding::load(name, options);
    if (!enc.ok()) {
      ADD_FAILURE() << "cannot load " << name << ": " << enc.error();
      std::abort();
    }
    it = cache->emplace(name, std::move(enc).value()).first;
  }
  return it->second;
}

using util::append_utf8;

// Characters that exercise every class the split patterns distinguish, all assigned before Unicode 13
// so that PCRE2's older tables classify them as the UCD 16 tables do.
inline const std::vector<uint32_t>& class_covering_alphabet() {
  static const std::vector<uint32_t> a = {
      'a', 'b', 's', 't', 'd', 'm', 'l', 'v', 'e', 'r', 'S', 'T', 'D', 'M', 'L', 'V', 'E', 'R', 'A', 'Z',
      '0', '1', '9', ' ', ' ', ' ', '\t', '\n', '\r', '\x0b', '\x0c', '\'', '\'', '!', '.', ',', '/', '-',
      '<', '|', '>', '_', '"', '(', 0x00,
      0x017F,                    // ſ (folds to s)
      0x00E9, 0x00C9,            // é É
      0x01C5,                    // ǅ Lt
      0x02B0,                    // ʰ Lm
      0x05D0, 0x4E2D, 0xAC00,    // Lo: Hebrew, CJK, Hangul
      0x0301, 0x0903, 0x20DD,    // Mn Mc Me
      0x0660, 0x00B2, 0x2160,    // Nd (Arabic-Indic) No Nl
      0x00A0, 0x3000, 0x2028, 0x0085, 0x1680, 0x2009,  // White_Space beyond ASCII
      0x1F600, 0x200D, 0x1F3FD,  // emoji, ZWJ, skin tone
      0x00AD, 0xFEFF,            // format characters
  };
  return a;
}

inline std::string random_text(std::mt19937& rng, size_t max_chars) {
  const auto& alphabet = class_covering_alphabet();
  std::uniform_int_distribution<size_t> len_dist(0, max_chars);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s;
  size_t n = len_dist(rng);
  for (size_t i = 0; i < n; ++i) append_utf8(s, alphabet[pick(rng)]);
  return s;
}

inline std::string random_bytes(std::mt19937& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len_dist(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len_dist(rng), '\0');
  for (auto& c : s) c = char(byte(rng));
  return s;
}

}  // namespace tokenmill::testing
