// Decoders (src/decoders/decoder.h). Expectations ported from HF tokenizers' decoders/*.rs tests.
#include <gtest/gtest.h>

#include "decoders/decoder.h"

namespace tokenmill::hf {
namespace {

using V = std::vector<std::string>;

V run(const Decoder& d, V tokens) {
  d.decode_chain(tokens);
  return tokens;
}

TEST(Decoders, ByteFallback) {  // HF byte_fallback.rs `decode`
  auto d = make_byte_fallback_decoder();
  EXPECT_EQ(run(*d, {"Hey", "friend!"}), (V{"Hey", "friend!"}));
  EXPECT_EQ(run(*d, {"<0x61>"}), (V{"a"}));
  EXPECT_EQ(run(*d, {"<0xE5>"}), (V{"\uFFFD"}));
  EXPECT_EQ(run(*d, {"<0xE5>", "<0x8f>"}), (V{"\uFFFD", "\uFFFD"}));
  EXPECT_EQ(run(*d, {"<0xE5>", "<0x8f>", "<0xab>"}), (V{"叫"}));
  EXPECT_EQ(run(*d, {"<0xE5>", "<0x8f>", "<0xab>", "a"}), (V{"叫", "a"}));
  EXPECT_EQ(run(*d, {"<0xE5>", "<0x8f>", "a"}), (V{"\uFFFD", "\uFFFD", "a"}));
}

TEST(Decoders, ByteLevel) {  // HF byte_level.rs `decoding`
  auto d = make_byte_level_decoder();
  EXPECT_EQ(run(*d, {"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}),
            (V{"Hello my friend, how is your day going?"}));
  // A token outside the byte alphabet is its own UTF-8; a lone continuation byte becomes U+FFFD.
  EXPECT_EQ(run(*d, {"<｜x｜>", "Ã"}), (V{"<｜x｜>\uFFFD"}));
}

TEST(Decoders, FuseReplaceStrip) {
  EXPECT_EQ(run(*make_fuse_decoder(), {"Hey", " friend", "!"}), (V{"Hey friend!"}));  // HF fuse.rs
  EXPECT_EQ(run(*make_replace_decoder("\u2581", " "), {"\u2581Hey", "\u2581friend\u2581"}), (V{" Hey", " friend "}));
  // HF strip.rs `decode`: Strip(' ', 1, 0)
  EXPECT_EQ(run(*make_strip_decoder(" ", 1, 0), {"Hey", " friend!", "   "}), (V{"Hey", "friend!", "  "}));
  EXPECT_EQ(run(*make_strip_decoder("\u2581", 1, 0), {"\u2581Hey"}), (V{"Hey"}));
}

TEST(Decoders, Metaspace) {
  // HF 0.23.3: decoders.Metaspace().decode(["\u2581Hey", "\u2581friend", "\u2581\u2581x"]) == "Hey friend  x",
  // and with prepend_scheme="never" the first token's replacement is a space too (" Hey friend").
  EXPECT_EQ(run(*make_metaspace_decoder("\u2581", true), {"\u2581Hey", "\u2581friend", "\u2581\u2581x"}),
            (V{"Hey", " friend", "  x"}));
  EXPECT_EQ(run(*make_metaspace_decoder("\u2581", false), {"\u2581Hey", "\u2581friend"}), (V{" Hey", " friend"}));
}

TEST(Decoders, Sequence) {
  std::vector<std::unique_ptr<Decoder>> parts;
  parts.push_back(make_replace_decoder("\u2581", " "));
  parts.push_back(make_byte_fallback_decoder());
  parts.push_back(make_fuse_decoder());
  auto d = make_sequence_decoder(std::move(parts));
  EXPECT_EQ(run(*d, {"\u2581a", "<0xE5>", "<0x8f>", "<0xab>", "\u2581b"}), (V{" a叫 b"}));
}

}  // namespace
}  // namespace tokenmill::hf
