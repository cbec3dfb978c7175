// Character classes for pre-tokenization, one byte of flags per code point.
// The tables are generated from the UCD ahead of time and committed (tools/tables/gen_unicode_tables.mjs).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tokenmill::detail {

enum CharClass : uint8_t {
  kUpper = 1 << 0,        // Lu, Lt
  kLower = 1 << 1,        // Ll
  kOtherLetter = 1 << 2,  // Lm, Lo
  kMark = 1 << 3,         // Mn, Mc, Me
  kNumber = 1 << 4,       // Nd, Nl, No
  kSpace = 1 << 5,        // White_Space (regex \s)
  kNewline = 1 << 6,      // \r or \n (ASCII only)
  kPunctSymbol = 1 << 7,  // P*, S* (DeepSeek V3's \p{P} and \p{S})
  kLetter = kUpper | kLower | kOtherLetter,
  // o200k's case classes: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
  kUpperish = kUpper | kOtherLetter | kMark,
  kLowerish = kLower | kOtherLetter | kMark,
};

// The class of each byte value as a character: ASCII bytes have their class, bytes >= 0x80 (parts of
// longer characters) class 0, so an ASCII run loop needs one load and one test per byte and stops at the
// first non-ASCII byte.
extern const std::array<uint8_t, 256> kByteClass;
extern const uint16_t* const kUnicodeStage1Ptr;
extern const uint8_t* const kUnicodeStage2Ptr;
inline constexpr int kBlockShift = 7;

inline uint8_t class_of_code_point(uint32_t cp) {
  if (cp >= 0x110000) return 0;
  return kUnicodeStage2Ptr[(size_t(kUnicodeStage1Ptr[cp >> kBlockShift]) << kBlockShift) |
                           (cp & ((1u << kBlockShift) - 1))];
}

// Decodes the character at p (p < end) and returns its class; *len gets its length in bytes.
// Invalid UTF-8 (bad lead, bad or missing continuation, overlong, surrogate, > U+10FFFF) is one byte of
// class 0, like an unknown symbol.
[[gnu::always_inline]] inline uint8_t class_at(const unsigned char* p, const unsigned char* end, size_t* len) {
  unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *len = 1;
    return kByteClass[b0];
  }
  size_t avail = size_t(end - p);
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (avail < 2 || (p[1] & 0xC0) != 0x80) goto invalid;
    cp = (uint32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
    *len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) goto invalid;
    if (b0 == 0xE0 && p[1] < 0xA0) goto invalid;   // overlong
    if (b0 == 0xED && p[1] >= 0xA0) goto invalid;  // surrogate
    cp = (uint32_t(b0 & 0x0F) << 12) | (uint32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    *len = 3;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) goto invalid;
    if (b0 == 0xF0 && p[1] < 0x90) goto invalid;   // overlong
    if (b0 == 0xF4 && p[1] >= 0x90) goto invalid;  // > U+10FFFF
    cp = (uint32_t(b0 & 0x07) << 18) | (uint32_t(p[1] & 0x3F) << 12) | (uint32_t(p[2] & 0x3F) << 6) |
         (p[3] & 0x3F);
    *len = 4;
  } else {
    goto invalid;
  }
  return class_of_code_point(cp);
invalid:
  *len = 1;
  return 0;
}

// Length of the longest valid UTF-8 prefix of [p, p+n).
size_t valid_utf8_prefix(const unsigned char* p, size_t n);

}  // namespace tokenmill::detail
