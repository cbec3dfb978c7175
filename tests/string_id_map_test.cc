// util::StringIdMap against std::unordered_map (the map it replaced), which keeps a key's first id too.
#include "util/string_id_map.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace tokenmill::util {
namespace {

// Keys from a small alphabet and short lengths, so that many repeat; the empty key and embedded NULs too.
std::string random_key(std::mt19937& rng) {
  static const char kAlphabet[] = {'a', 'b', 'c', '\0', '\xC3', '\xA9', ' '};
  std::string k(rng() % 6, ' ');
  for (char& c : k) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return k;
}

TEST(StringIdMap, FindsWhatAnUnorderedMapFinds) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    std::mt19937 rng(seed);
    StringIdMap map;
    if (seed % 2) map.reserve(500, 2000);  // with and without the up-front index
    std::unordered_map<std::string, uint32_t> oracle;
    std::vector<std::pair<std::string, uint32_t>> inserted;
    const size_t n = 1 + rng() % 3000;
    for (uint32_t id = 0; id < n; ++id) {
      std::string key = random_key(rng);
      const uint32_t entry = map.insert(key, id);
      const bool fresh = oracle.emplace(key, id).second;
      ASSERT_EQ(entry, inserted.size());
      EXPECT_EQ(map.indexed(entry), fresh) << "key '" << key << "'";
      EXPECT_EQ(map.key(entry), key);
      EXPECT_EQ(map.id(entry), id);
      inserted.push_back({key, id});
    }
    EXPECT_EQ(map.size(), oracle.size());
    EXPECT_EQ(map.entries(), inserted.size());
    for (const auto& [key, id] : inserted) {
      ASSERT_TRUE(map.find(key).has_value()) << "key '" << key << "'";
      EXPECT_EQ(*map.find(key), oracle.at(key));
    }
    for (int k = 0; k < 500; ++k) {
      std::string probe = random_key(rng) + "x";  // never inserted: no key has an 'x'
      EXPECT_FALSE(map.contains(probe));
    }
    std::unordered_map<std::string, uint32_t> visited;
    map.for_each([&](std::string_view key, uint32_t id) { EXPECT_TRUE(visited.emplace(key, id).second); });
    EXPECT_EQ(visited, oracle);
  }
}

TEST(StringIdMap, EmptyMapFindsNothing) {
  StringIdMap map;
  EXPECT_FALSE(map.contains(""));
  EXPECT_FALSE(map.contains("a"));
  EXPECT_EQ(map.size(), 0u);
}

}  // namespace
}  // namespace tokenmill::util
