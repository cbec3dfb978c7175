// The first bytes of the strings a scan looks for (special tokens, added tokens), and the scan to the next
// position holding one of them. Most vocabularies' special tokens all start with '<': then the scan is
// memchr, which skips the text many bytes at a time, instead of a table lookup per byte.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace tokenmill::util {

class ByteSet {
 public:
  void insert(unsigned char b) {
    if (member_[b]) return;
    member_[b] = true;
    only_ = only_ == kEmpty ? b : kSeveral;
  }
  bool contains(unsigned char b) const { return member_[b]; }

  // The first position at or after `from` whose byte is in the set, or text.size().
  size_t next(std::string_view text, size_t from) const {
    if (from >= text.size() || only_ == kEmpty) return text.size();
    if (only_ != kSeveral) {
      const void* hit = std::memchr(text.data() + from, only_, text.size() - from);
      return hit ? size_t(static_cast<const char*>(hit) - text.data()) : text.size();
    }
    while (from < text.size() && !member_[static_cast<unsigned char>(text[from])]) ++from;
    return from;
  }

 private:
  static constexpr int kEmpty = -1, kSeveral = -2;
  bool member_[256] = {};
  int only_ = kEmpty;  // the one member, or kEmpty / kSeveral
};

}  // namespace tokenmill::util
