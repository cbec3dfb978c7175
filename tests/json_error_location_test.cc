// util::json_error_offset on documents broken on purpose at known places: the expected offset is where the
// break was made, never what the function returned before.
#include "util/json_error_location.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tokenmill::util {
namespace {

// A tokenizer.json-like document, with the offsets of every value and of every comma between elements.
struct Document {
  std::string text;
  std::vector<std::pair<size_t, size_t>> values;  // (start, length) of scalar values
  std::vector<size_t> commas;                     // each followed by a space and then the next element
};

Document make_document(std::mt19937& rng) {
  Document d;
  const std::vector<std::string> scalars = {
      "0", "17", "-3.5e2", "true", "false", "null", "\"a\\nb\"", "\"\\u00e9\"", "\"\xC3\xA9t\xC3\xA9\"", "\"Ġthe\""};
  auto scalar = [&] {
    const std::string& s = scalars[rng() % scalars.size()];
    d.values.push_back({d.text.size(), s.size()});
    d.text += s;
  };
  d.text += "{\"version\": \"1.0\",\n \"model\": {\"vocab\": {";
  for (int i = 0; i < 8; ++i) {
    if (i > 0) {
      d.commas.push_back(d.text.size());
      d.text += ", ";
    }
    d.text += "\"k" + std::to_string(i) + "\": ";
    scalar();
  }
  d.text += "},\n \"merges\": [";
  for (int i = 0; i < 8; ++i) {
    if (i > 0) {
      d.commas.push_back(d.text.size());
      d.text += ", ";
    }
    if (i % 3 == 2) {
      d.text += "[";
      scalar();
      d.commas.push_back(d.text.size());
      d.text += ", ";
      scalar();
      d.text += "]";
    } else {
      scalar();
    }
  }
  d.text += "]}}";
  return d;
}

TEST(JsonErrorOffset, PointsAtTheBreak) {
  std::mt19937 rng(4);
  size_t checked = 0;
  for (int round = 0; round < 40; ++round) {
    const Document d = make_document(rng);
    ASSERT_EQ(json_error_offset(d.text + "  "), std::nullopt) << d.text;  // valid: nothing to point at
    for (auto [start, length] : d.values) {                               // a value that is no JSON value
      std::string bad = d.text;
      bad.replace(start, length, "x");
      EXPECT_EQ(json_error_offset(bad), start) << bad;
      ++checked;
    }
    for (size_t comma : d.commas) {
      std::string missing = d.text;
      missing.erase(comma, 1);  // the next element now starts one byte earlier
      EXPECT_EQ(json_error_offset(missing), comma + 1) << missing;
      std::string doubled = d.text;
      doubled.insert(comma + 1, ",");
      EXPECT_EQ(json_error_offset(doubled), comma + 1) << doubled;
      checked += 2;
    }
    EXPECT_EQ(json_error_offset(d.text + " x"), d.text.size() + 1);  // content after the document
    std::string bad_utf8 = d.text;
    const size_t at = d.text.find("\"model\"") + 2;
    bad_utf8[at] = '\xFF';
    EXPECT_EQ(json_error_offset(bad_utf8), at);
  }
  EXPECT_GT(checked, 1000u);
}

TEST(JsonErrorOffset, NoPositionWhereTheTextCannotBeWalked) {
  EXPECT_EQ(json_error_offset("{\"model\": \"unterminated}"), std::nullopt);
  EXPECT_EQ(json_error_offset(std::string(5000, '[') + std::string(5000, ']')), std::nullopt);
  EXPECT_EQ(json_error_offset(""), std::nullopt);
}

TEST(DescribeOffset, CountsLinesAndBytes) {
  EXPECT_EQ(describe_offset("ab\ncd\nef", 0), "byte 0 (line 1, column 1)");
  EXPECT_EQ(describe_offset("ab\ncd\nef", 2), "byte 2 (line 1, column 3)");
  EXPECT_EQ(describe_offset("ab\ncd\nef", 3), "byte 3 (line 2, column 1)");
  EXPECT_EQ(describe_offset("ab\n\xC3\xA9x", 6), "byte 6 (line 2, column 4)");  // columns in bytes
}

}  // namespace
}  // namespace tokenmill::util
