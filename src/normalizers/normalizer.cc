#include "normalizers/normalizer.h"

namespace tokenmill::hf {

namespace {
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

Offsets NormalizedString::original_offsets(uint32_t begin, uint32_t end) const {
  if (alignments.empty()) {
    // Identity: each byte maps to the character holding it, so a token that starts or ends inside a
    // character (byte-level BPE splits them) spans the whole character, as in HF.
    uint32_t b = begin, e = end;
    while (b > 0 && is_continuation(original[b])) --b;
    while (e < original.size() && is_continuation(original[e])) ++e;
    return {base + b, base + e};
  }
  return {base + alignments[begin].first, base + alignments[end - 1].second};
}

NormalizedString NormalizedString::slice(Offsets range) const {
  NormalizedString out{original, base, normalized.substr(range.first, range.second - range.first), {}};
  if (alignments.empty()) {
    // Identity alignments, materialised for the slice (the slice's bytes no longer match `original`'s).
    const std::vector<Offsets> all = identity_alignments(normalized);
    out.alignments.assign(all.begin() + range.first, all.begin() + range.second);
  } else {
    out.alignments.assign(alignments.begin() + range.first, alignments.begin() + range.second);
  }
  return out;
}

namespace {
class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(NormalizedString& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};
}  // namespace

std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> parts) {
  return std::make_unique<SequenceNormalizer>(std::move(parts));
}

}  // namespace tokenmill::hf
