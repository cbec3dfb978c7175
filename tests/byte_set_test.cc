// util/byte_set.h: next() against a plain scan, for an empty set, one byte (the memchr path) and several.
#include "util/byte_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace tokenmill::util {
namespace {

size_t plain_next(const std::vector<unsigned char>& members, std::string_view text, size_t from) {
  for (size_t i = from; i < text.size(); ++i) {
    for (unsigned char m : members) {
      if (static_cast<unsigned char>(text[i]) == m) return i;
    }
  }
  return text.size();
}

TEST(ByteSet, NextIsThePlainScanForAnySetAndStart) {
  std::mt19937 rng(3);
  const std::vector<std::vector<unsigned char>> sets = {{}, {'<'}, {0x00}, {0xFF}, {'<', 0xE2}, {'a', 'b', 'c', 0x80}};
  for (const auto& members : sets) {
    ByteSet set;
    for (unsigned char m : members) {
      set.insert(m);
      set.insert(m);  // inserting twice changes nothing
    }
    for (int b = 0; b < 256; ++b) {
      const bool in = std::find(members.begin(), members.end(), b) != members.end();
      ASSERT_EQ(set.contains(static_cast<unsigned char>(b)), in) << b;
    }
    for (int t = 0; t < 300; ++t) {
      // Texts over a small alphabet that holds the members, so hits are frequent, at the ends too.
      std::string text(rng() % 80, '\0');
      const std::string alphabet = std::string("<ab\xE2\x80\xFFz") + '\0';
      for (char& c : text) c = alphabet[rng() % alphabet.size()];
      for (size_t from = 0; from <= text.size() + 1; ++from) {
        ASSERT_EQ(set.next(text, from), plain_next(members, text, from)) << members.size() << " " << text.size();
      }
    }
  }
}

}  // namespace
}  // namespace tokenmill::util
