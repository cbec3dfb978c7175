#include "pre_tokenizers/pre_tokenizer.h"

#include <array>

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
  Status pre_tokenize(std::string_view text, std::vector<Offsets>& splits) const override {
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

class ByteLevel final : public PreTokenizer {
 public:
  explicit ByteLevel(std::unique_ptr<PreTokenizer> split) : split_(std::move(split)) {}
  Status pre_tokenize(std::string_view text, std::vector<Offsets>& splits) const override {
    // The byte -> character mapping itself is the model's business (it reads bytes); only the split is here.
    return split_ ? split_->pre_tokenize(text, splits) : Status();
  }
  bool byte_level() const override { return true; }

 private:
  std::unique_ptr<PreTokenizer> split_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  Status pre_tokenize(std::string_view text, std::vector<Offsets>& splits) const override {
    for (const auto& p : parts_) {
      Status s = p->pre_tokenize(text, splits);
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
Result<std::unique_ptr<PreTokenizer>> make_byte_level(bool use_regex) {
  std::unique_ptr<PreTokenizer> split;
  if (use_regex) {
    auto re = HfRegex::compile(kGpt2Pattern);
    if (!re.ok()) return re.status();
    split = make_split_regex(std::move(re).value(), SplitBehavior::kIsolated, false);
  }
  return std::unique_ptr<PreTokenizer>(std::make_unique<ByteLevel>(std::move(split)));
}
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) {
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace tokenmill::hf
