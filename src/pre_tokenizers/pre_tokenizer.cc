#include "pre_tokenizers/pre_tokenizer.h"

#include <array>

#include "added_vocabulary/added_vocabulary.h"
#include "tokenmill/hf_json.h"
#include "util/utf8.h"

namespace tokenmill::hf {

void apply_behavior(std::vector<std::pair<Offsets, bool>>& matches, SplitBehavior behavior, bool invert,
                    std::vector<Offsets>& out) {
  if (invert) {
    for (auto& m : matches) m.second = !m.second;
  }
  std::vector<std::pair<Offsets, bool>> pieces;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      pieces = matches;
      break;
    case SplitBehavior::kRemoved:
      for (auto& m : matches) {
        if (!m.second) pieces.push_back(m);
      }
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (auto& m : matches) {
        if (m.second && !previous_match && !pieces.empty()) {
          pieces.back().first.second = m.first.second;
        } else {
          pieces.push_back(m);
        }
        previous_match = m.second;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous_match = false;
      std::vector<std::pair<Offsets, bool>> rev;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->second && !previous_match && !rev.empty()) {
          rev.back().first.first = it->first.first;
        } else {
          rev.push_back(*it);
        }
        previous_match = it->second;
      }
      pieces.assign(rev.rbegin(), rev.rend());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (auto& m : matches) {
        if (m.second == previous_match && !pieces.empty()) {
          pieces.back().first.second = m.first.second;
        } else {
          pieces.push_back(m);
        }
        previous_match = m.second;
      }
      break;
    }
  }
  for (auto& p : pieces) {
    if (p.first.first != p.first.second) out.push_back(p.first);
  }
}

namespace {

class SplitRegex final : public PreTokenizer {
 public:
  SplitRegex(HfRegex regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  Status pre_tokenize(NormalizedString& ns, std::vector<Offsets>& splits) const override {
    const std::string_view text = ns.normalized;
    std::vector<Offsets> out;
    std::vector<std::pair<Offsets, bool>> matches;
    std::vector<Offsets> pieces;
    for (auto [b, e] : splits) {
      Status s = regex_.find_matches(text.substr(b, e - b), matches);
      if (!s.ok()) return s;
      pieces.clear();
      apply_behavior(matches, behavior_, invert_, pieces);
      for (auto [pb, pe] : pieces) out.push_back({b + pb, b + pe});
    }
    splits = std::move(out);
    return Status();
  }

 private:
  HfRegex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

// GPT-2's pattern, as HF's ByteLevel has it built in.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Rebuilds s from its splits alone: each gets `prefix` before it (aligned like its first byte, as HF's
// prepend) when `wants_prefix(split)` says so, and every space in it becomes `space` (aligned like the space).
template <typename WantsPrefix>
void rewrite_splits(NormalizedString& s, std::vector<Offsets>& splits, std::string_view prefix, std::string_view space,
                    WantsPrefix wants_prefix) {
  if (s.alignments.empty()) s.alignments = identity_alignments(s.normalized);
  std::string text;
  std::vector<Offsets> align;
  std::vector<Offsets> out;
  for (auto [b, e] : splits) {
    const uint32_t start = uint32_t(text.size());
    if (b < e && wants_prefix(b, e)) {
      text += prefix;
      align.insert(align.end(), prefix.size(), s.alignments[b]);
    }
    for (uint32_t i = b; i < e; ++i) {
      if (s.normalized[i] == ' ') {
        text += space;
        align.insert(align.end(), space.size(), s.alignments[i]);
      } else {
        text += s.normalized[i];
        align.push_back(s.alignments[i]);
      }
    }
    out.push_back({start, uint32_t(text.size())});
  }
  s.normalized = std::move(text);
  s.alignments = std::move(align);
  splits = std::move(out);
}

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, std::unique_ptr<PreTokenizer> split)
      : add_prefix_space_(add_prefix_space), split_(std::move(split)) {}
  Status pre_tokenize(NormalizedString& s, std::vector<Offsets>& splits) const override {
    // The byte -> character mapping itself is the model's business (it reads bytes); only the split is here.
    if (add_prefix_space_) {
      rewrite_splits(s, splits, " ", " ", [&](uint32_t b, uint32_t) { return s.normalized[b] != ' '; });
    }
    return split_ ? split_->pre_tokenize(s, splits) : Status();
  }
  bool byte_level() const override { return true; }
  bool edits_text() const override { return add_prefix_space_; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<PreTokenizer> split_;
};

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, std::unique_ptr<PreTokenizer> split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(std::move(split)) {}
  Status pre_tokenize(NormalizedString& s, std::vector<Offsets>& splits) const override {
    rewrite_splits(s, splits, replacement_, replacement_, [&](uint32_t b, uint32_t e) {
      // HF checks the split after its spaces were replaced: a leading space counts as the replacement.
      std::string_view piece = std::string_view(s.normalized).substr(b, e - b);
      if (piece[0] == ' ' || piece.substr(0, replacement_.size()) == replacement_) return false;
      return scheme_ == PrependScheme::kAlways ||
             (scheme_ == PrependScheme::kFirst && s.original_offsets(b, e).first == 0);
    });
    return split_ ? split_->pre_tokenize(s, splits) : Status();
  }
  bool edits_text() const override { return true; }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  std::unique_ptr<PreTokenizer> split_;
};

// Whitespace's `\w+|[^\w\s]+` (Rust regex, leftmost-first): every maximal run of word characters and every
// maximal run of characters that are neither word nor space; the spaces between are dropped.
class Whitespace final : public PreTokenizer {
 public:
  Status pre_tokenize(NormalizedString& ns, std::vector<Offsets>& splits) const override {
    const std::string_view text = ns.normalized;
    std::vector<Offsets> out;
    for (auto [b, e] : splits) {
      int run = -1;  // 1: word, 0: other, -1: none
      uint32_t run_start = b;
      for (uint32_t i = b; i <= e;) {
        int kind = -1;
        uint32_t n = 1;
        if (i < e) {
          unsigned char c = static_cast<unsigned char>(text[i]);
          n = uint32_t(std::min<size_t>(c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, e - i));
          const uint32_t cp = util::code_points(text.substr(i, n)).front();
          kind = is_word_char(cp) ? 1 : util::is_white_space(cp) ? -1 : 0;
        }
        if (kind != run || i == e) {
          if (run != -1) out.push_back({run_start, i});
          run = kind;
          run_start = i;
        }
        if (i == e) break;
        i += n;
      }
    }
    splits = std::move(out);
    return Status();
  }
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  Status pre_tokenize(NormalizedString& ns, std::vector<Offsets>& splits) const override {
    for (const auto& p : parts_) {
      Status s = p->pre_tokenize(ns, splits);
      if (!s.ok()) return s;
    }
    return Status();
  }
  bool byte_level() const override {
    for (const auto& p : parts_) {
      if (p->byte_level()) return true;
    }
    return false;
  }
  bool edits_text() const override {
    for (const auto& p : parts_) {
      if (p->edits_text()) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

struct ByteLevelTables {
  std::array<std::string, 256> chars;
  std::array<int, 324> bytes;  // code points 0..323 cover the alphabet
  ByteLevelTables() {
    // GPT-2's table is the one the trainer writes tokenizer.json with (tokenmill/hf_json.h); the reverse
    // direction is derived from it.
    bytes.fill(-1);
    for (int b = 0; b < 256; ++b) {
      chars[size_t(b)] = tokenmill::byte_level_char(uint8_t(b));
      bytes[util::code_points(chars[size_t(b)]).front()] = b;
    }
  }
};
const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

const std::string& byte_level_char(uint8_t b) { return tables().chars[b]; }
int byte_level_byte(uint32_t cp) { return cp < 324 ? tables().bytes[cp] : -1; }

std::unique_ptr<PreTokenizer> make_split_regex(HfRegex regex, SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitRegex>(std::move(regex), behavior, invert);
}
std::string escape_literal(std::string_view literal) {
  std::string escaped;
  for (char c : literal) {
    if (std::string_view("\\.+*?()|[]{}^$#&-~ ").find(c) != std::string_view::npos) escaped += '\\';
    escaped += c;
  }
  return escaped;
}

Result<std::unique_ptr<PreTokenizer>> make_split_string(std::string_view literal, SplitBehavior behavior, bool invert) {
  // HF runs a String pattern as the escaped regex, so its iteration (empty literal included) is the regex's.
  auto re = HfRegex::compile(escape_literal(literal));
  if (!re.ok()) return re.status();
  return make_split_regex(std::move(re).value(), behavior, invert);
}
namespace {
Result<std::unique_ptr<PreTokenizer>> split_on(std::string_view pattern, SplitBehavior behavior) {
  auto re = HfRegex::compile(pattern);
  if (!re.ok()) return re.status();
  return make_split_regex(std::move(re).value(), behavior, false);
}
}  // namespace

Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool add_prefix_space, bool use_regex) {
  std::unique_ptr<PreTokenizer> split;
  if (use_regex) {
    auto re = split_on(kGpt2Pattern, SplitBehavior::kIsolated);
    if (!re.ok()) return re.status();
    split = std::move(re).value();
  }
  return std::unique_ptr<PreTokenizer>(std::make_unique<ByteLevel>(add_prefix_space, std::move(split)));
}
Result<std::unique_ptr<PreTokenizer>> make_metaspace(std::string replacement, PrependScheme scheme, bool split) {
  std::unique_ptr<PreTokenizer> cut;
  if (split) {
    // HF splits on the character itself; a one-character literal regex finds the same occurrences.
    auto re = make_split_string(replacement, SplitBehavior::kMergedWithNext, false);
    if (!re.ok()) return re.status();
    cut = std::move(re).value();
  }
  return std::unique_ptr<PreTokenizer>(std::make_unique<Metaspace>(std::move(replacement), scheme, std::move(cut)));
}
// HF splits these on a character predicate, one match per character: a one-character class does the same.
Result<std::unique_ptr<PreTokenizer>> make_digits(bool individual_digits) {
  return split_on("\\p{N}", individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
}
std::unique_ptr<PreTokenizer> make_whitespace() { return std::make_unique<Whitespace>(); }
Result<std::unique_ptr<PreTokenizer>> make_whitespace_split() { return split_on("\\s", SplitBehavior::kRemoved); }
Result<std::unique_ptr<PreTokenizer>> make_punctuation(SplitBehavior behavior) {
  return split_on("[\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}]", behavior);
}
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) {
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace tokenmill::hf
