// Replace: every match of a pattern (a literal or an HF regex) becomes `content`. As in HF, each byte of
// the replacement is aligned like the last byte of what it replaced (an empty match: like the byte before).
#include "normalizers/normalizer.h"

namespace tokenmill::hf {

namespace {

class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(HfRegex regex, std::string content) : regex_(std::move(regex)), content_(std::move(content)) {}
  void normalize(NormalizedString& s) const override {
    std::vector<std::pair<Offsets, bool>> matches;
    // A regex match error leaves the text as it is; HF's find_matches cannot fail on valid UTF-8 either.
    if (!regex_.find_matches(s.normalized, matches).ok()) return;
    bool any = false;
    for (auto& m : matches) any = any || m.second;
    if (!any) return;
    std::vector<Offsets> old = s.alignments.empty() ? identity_alignments(s.normalized) : s.alignments;
    std::string text;
    std::vector<Offsets> align;
    for (auto [range, is_match] : matches) {
      auto [b, e] = range;
      if (!is_match) {
        text.append(s.normalized, b, e - b);
        align.insert(align.end(), old.begin() + b, old.begin() + e);
        continue;
      }
      Offsets a = e >= 1 ? old[e - 1] : Offsets{0, 0};
      text += content_;
      align.insert(align.end(), content_.size(), a);
    }
    s.normalized = std::move(text);
    s.alignments = std::move(align);
  }

 private:
  HfRegex regex_;
  std::string content_;
};

}  // namespace

std::vector<Offsets> identity_alignments(std::string_view text) {
  std::vector<Offsets> out(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = std::min<size_t>(c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, text.size() - i);
    for (size_t k = 0; k < n; ++k) out[i + k] = {uint32_t(i), uint32_t(i + n)};
    i += n;
  }
  return out;
}

std::unique_ptr<Normalizer> make_replace_normalizer(HfRegex pattern, std::string content) {
  return std::make_unique<ReplaceNormalizer>(std::move(pattern), std::move(content));
}

}  // namespace tokenmill::hf
