// The id formats of include/tokenmill/id_format.h. Expected bytes are written out by hand from the format
// (decimal text; uint32 little-endian as numpy's "<u4" lays it out), not computed by the code under test.
#include "tokenmill/id_format.h"

#include <gtest/gtest.h>

#include <random>

namespace tokenmill {
namespace {

TEST(IdFormat, TextIsSpaceSeparatedDecimalWithANewline) {
  EXPECT_EQ(ids_to_text(std::vector<Rank>{}), "\n");
  EXPECT_EQ(ids_to_text(std::vector<Rank>{0, 15339, 4294967295u}), "0 15339 4294967295\n");
}

TEST(IdFormat, BinaryIsUint32LittleEndian) {
  EXPECT_EQ(ids_to_binary(std::vector<Rank>{1, 0x01020304u}), std::string("\x01\0\0\0\x04\x03\x02\x01", 8));
}

TEST(IdFormat, TextParsesListsAndWhitespace) {
  auto ids = parse_ids_text("[15339, 1917]\n7\t8\r\n", "ids.txt");
  ASSERT_TRUE(ids.ok()) << ids.error();
  EXPECT_EQ(*ids, (std::vector<Rank>{15339, 1917, 7, 8}));
  EXPECT_TRUE(parse_ids_text("", "e")->empty());
}

TEST(IdFormat, TextErrorsNameSourceLineAndText) {
  auto bad = parse_ids_text("1 2\n3 x4\n", "ids.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kParseError);
  EXPECT_NE(bad.error().find("ids.txt:2: not a token id: 'x4"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_ids_text("4294967296", "big").ok());  // does not fit 32 bits
  EXPECT_FALSE(parse_ids_text("12a", "t").ok());
  EXPECT_FALSE(parse_ids_text("-1", "t").ok());
}

TEST(IdFormat, BinaryLengthMustBeAMultipleOf4) {
  auto bad = parse_ids_binary(std::string(5, '\0'), "ids.bin");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("ids.bin"), std::string::npos);
  EXPECT_NE(bad.error().find("5"), std::string::npos);
}

// Property: both formats round-trip any ids.
TEST(IdFormat, RoundTrip) {
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::vector<Rank> ids(rng() % 50);
    for (auto& id : ids) id = Rank(rng());
    EXPECT_EQ(*parse_ids_text(ids_to_text(ids), "t"), ids);
    EXPECT_EQ(*parse_ids_binary(ids_to_binary(ids), "b"), ids);
  }
}

}  // namespace
}  // namespace tokenmill
