// Strip and Prepend: HF's NormalizedString::lrstrip and ::prepend, with their alignments.
#include "normalizers/normalizer.h"
#include "util/utf8.h"

namespace tokenmill::hf {

namespace {

using util::is_white_space;

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& s) const override {
    const std::vector<uint32_t> cps = util::code_points(s.normalized);
    size_t leading = 0, trailing = 0;
    while (left_ && leading < cps.size() && is_white_space(cps[leading])) ++leading;
    while (right_ && trailing < cps.size() && is_white_space(cps[cps.size() - 1 - trailing])) ++trailing;
    if (leading == 0 && trailing == 0) return;
    std::vector<std::pair<uint32_t, int>> out;
    // The trailing whitespace needs no removal change: nothing follows it.
    for (size_t i = leading; i + trailing < cps.size(); ++i) out.push_back({cps[i], 0});
    apply_changes(s, out, leading);
  }

 private:
  bool left_, right_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(util::code_points(prefix)) {}
  void normalize(NormalizedString& s) const override {
    if (s.normalized.empty()) return;
    const std::vector<uint32_t> cps = util::code_points(s.normalized);
    if (prefix_.empty()) {
      // HF reinserts the first character as if new, at the very start: it is aligned to (0, 0).
      if (s.alignments.empty()) s.alignments = identity_alignments(s.normalized);
      for (size_t i = 0; i < util::utf8_length(cps[0]); ++i) s.alignments[i] = {0, 0};
      return;
    }
    // As HF: the prefix's first character replaces the text's first, the rest of the prefix and that
    // character are inserted after it, so all carry the first character's alignment.
    std::vector<std::pair<uint32_t, int>> out;
    for (size_t i = 0; i < prefix_.size(); ++i) out.push_back({prefix_[i], i == 0 ? 0 : 1});
    out.push_back({cps[0], 1});
    for (size_t i = 1; i < cps.size(); ++i) out.push_back({cps[i], 0});
    apply_changes(s, out);
  }

 private:
  std::vector<uint32_t> prefix_;
};

}  // namespace

std::unique_ptr<Normalizer> make_strip_normalizer(bool left, bool right) {
  return std::make_unique<Strip>(left, right);
}
std::unique_ptr<Normalizer> make_prepend_normalizer(std::string prefix) {
  return std::make_unique<Prepend>(std::move(prefix));
}

}  // namespace tokenmill::hf
