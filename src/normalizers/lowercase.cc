// Lowercase: HF's NormalizedString::lowercase, one character at a time; a character whose lowercase is two
// (U+0130) gets the second inserted after the first.
#include <algorithm>

#include "normalizers/normalizer.h"
#include "util/utf8.h"

namespace tokenmill::hf {

namespace {

#include "normalizers/lowercase_table.inc"

class Lowercase final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override {
    std::vector<std::pair<uint32_t, int>> out;
    bool changed = false;
    for (uint32_t cp : util::code_points(s.normalized)) {
      const auto* end = kLowercase + sizeof(kLowercase) / sizeof(kLowercase[0]);
      const auto* it =
          std::lower_bound(kLowercase, end, cp, [](const uint32_t(&e)[3], uint32_t v) { return e[0] < v; });
      if (it == end || (*it)[0] != cp) {
        out.push_back({cp, 0});
        continue;
      }
      changed = true;
      out.push_back({(*it)[1], 0});
      if ((*it)[2]) out.push_back({(*it)[2], 1});
    }
    if (changed) apply_changes(s, out);
  }
};

}  // namespace

std::unique_ptr<Normalizer> make_lowercase_normalizer() { return std::make_unique<Lowercase>(); }

}  // namespace tokenmill::hf
