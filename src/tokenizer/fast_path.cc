#include "tokenizer/fast_path.h"

#include <simdjson.h>

#include <algorithm>

#include "tokenizer/tokenizer_impl.h"

namespace tokenmill {

namespace {

using simdjson::dom::element;

constexpr std::string_view kMetaspace = "\u2581";  // ▁, SentencePiece's space

// The model's merge list as an Encoding's rule for pieces that are not whole tokens. The model is the
// Tokenizer::Impl's, which owns this Encoding too, so the reference lives as long as its user.
class MergeListEncoder final : public PieceEncoder {
 public:
  explicit MergeListEncoder(const hf::BpeModel& model) : model_(model) {}
  void encode(std::string_view piece, std::vector<Rank>& out) const override { model_.merge_ids(piece, out); }

 private:
  const hf::BpeModel& model_;
};

// Text with each "from" replaced by "to".
void replace_all(std::string_view s, std::string_view from, std::string_view to, std::string& out) {
  out.clear();
  for (size_t i = 0;;) {
    const size_t at = s.find(from, i);
    out.append(s.substr(i, at == std::string_view::npos ? std::string_view::npos : at - i));
    if (at == std::string_view::npos) return;
    out.append(to);
    i = at + from.size();
  }
}

// FastSplit::kMetaspaceCuts: the Encoding reads "▁" as ' ' (see the top of fast_path.h); the merge list
// reads the text as it is.
class SpaceFormMergeListEncoder final : public PieceEncoder {
 public:
  explicit SpaceFormMergeListEncoder(const hf::BpeModel& model) : model_(model) {}
  void encode(std::string_view piece, std::vector<Rank>& out) const override {
    thread_local std::string text;
    replace_all(piece, " ", kMetaspace, text);
    model_.merge_ids(text, out);
  }

 private:
  const hf::BpeModel& model_;
};

std::string_view string_field(const element& e, const char* key) {
  std::string_view s;
  if (e[key].get(s)) return {};
  return s;
}
// A boolean field, or `fallback` when missing (the loader has already refused other types).
bool bool_field(const element& e, const char* key, bool fallback) {
  bool b;
  return e[key].get(b) ? fallback : b;
}

bool is_plain_byte_level(const element& e, bool use_regex) {
  return string_field(e, "type") == "ByteLevel" && !bool_field(e, "add_prefix_space", true) &&
         bool_field(e, "use_regex", true) == use_regex;
}

// The split patterns of a pre-tokenizer that is exactly "split by P1, then each piece by P2, ..., keep every
// piece, then ByteLevel without a prefix space": Splits with behavior Isolated; or one Split(P, Removed,
// invert), which keeps the matches and drops the text between them, and the built-in families match every
// character, so it keeps all pieces too. Or ByteLevel alone with its built-in GPT-2 pattern. Empty when the
// shape is any other.
std::vector<std::string_view> scanner_patterns(const element& pre) {
  simdjson::dom::array parts;
  if (string_field(pre, "type") == "ByteLevel") {
    if (!is_plain_byte_level(pre, true)) return {};
    return {kGpt2ByteLevelPattern};
  }
  if (string_field(pre, "type") != "Sequence" || pre["pretokenizers"].get(parts) || parts.size() < 2) return {};
  if (!is_plain_byte_level(parts.at(parts.size() - 1).value(), false)) return {};
  std::vector<std::string_view> patterns;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const element split = parts.at(i).value();
    if (string_field(split, "type") != "Split") return {};
    const std::string_view behavior = string_field(split, "behavior");
    const bool invert = bool_field(split, "invert", false);
    const bool keeps_all = parts.size() == 2 && behavior == "Removed" && invert;
    if (!((behavior == "Isolated" && !invert) || keeps_all)) return {};
    std::string_view pattern;
    if (split["pattern"]["Regex"].get(pattern)) return {};
    // HF reads tiktoken's own strings of these two otherwise than tiktoken (see kCl100kHfPattern).
    if (pattern == kCl100kPattern || pattern == kR50kPattern) return {};
    patterns.push_back(pattern);
  }
  return patterns;
}

bool is_ascii_byte(char c) { return static_cast<unsigned char>(c) < 0x80; }

// NFC of `s` into `out`, running the normalizer only where it can change something. The boundary before an
// ASCII character is stable (it has canonical combining class 0, and no canonical composition has an ASCII
// second character), so text normalizes piecewise between such boundaries: ASCII passes through, and each
// run of other characters, with the ASCII character before it (a starter its marks may compose with), is
// normalized alone.
void nfc_into(const hf::Normalizer& nfc, std::string_view s, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && is_ascii_byte(s[run])) ++run;
    if (run == s.size()) {
      out.append(s.substr(i));
      break;
    }
    const size_t start = run > i ? run - 1 : run;
    size_t end = run;
    while (end < s.size() && !is_ascii_byte(s[end])) ++end;
    if (hf::nfc_unchanged(s.substr(run, end - run))) {
      out.append(s.substr(i, end - i));
    } else {
      out.append(s.substr(i, start - i));
      hf::NormalizedString ns = hf::NormalizedString::identity(s.substr(start, end - start), 0);
      nfc.normalize(ns);
      out += ns.normalized;
    }
    i = end;
  }
}

}  // namespace

FastPathShape fast_path_shape(const element& normalizer, const element& pre_tokenizer) {
  FastPathShape shape;
  const std::string_view type = string_field(normalizer, "type");
  std::string_view from, to;
  if (type == "NFC") {
    shape.normalizer = FastNormalizer::kNfc;
  } else if (type == "Replace" && !normalizer["pattern"]["String"].get(from) && from == " " &&
             !normalizer["content"].get(to) && to == kMetaspace) {
    shape.normalizer = FastNormalizer::kSpacesToMetaspace;
  }
  const std::vector<std::string_view> patterns = scanner_patterns(pre_tokenizer);
  if (!patterns.empty()) {
    auto pre = Pretokenizer::create_split_sequence(patterns);
    if (pre.ok() && pre->kind() != Pretokenizer::Kind::kRegex) shape.scanner = std::move(pre).value();
  }
  std::string_view split_at;
  shape.splits_only_at_spaces = string_field(pre_tokenizer, "type") == "Split" &&
                                !pre_tokenizer["pattern"]["String"].get(split_at) && split_at == " " &&
                                !bool_field(pre_tokenizer, "invert", false);
  return shape;
}

namespace {

// The last UTF-8 character of a non-empty `s`.
std::string_view last_character(std::string_view s) {
  size_t begin = s.size() - 1;
  while (begin > 0 && (static_cast<unsigned char>(s[begin]) & 0xC0) == 0x80) --begin;
  return s.substr(begin);
}

MetaspaceCuts metaspace_cuts(const hf::BpeModel& model) {
  MetaspaceCuts cuts;
  model.unit_vocab().for_each([&](std::string_view token, uint32_t) {
    for (size_t at = token.find(kMetaspace, 1); at != std::string_view::npos; at = token.find(kMetaspace, at + 1)) {
      const std::string_view before = last_character(token.substr(0, at));
      if (std::find(cuts.joins.begin(), cuts.joins.end(), before) == cuts.joins.end()) cuts.joins.emplace_back(before);
    }
  });
  const auto joins = [&](std::string_view c) {
    return std::find(cuts.joins.begin(), cuts.joins.end(), c) != cuts.joins.end();
  };
  const hf::BpeConfig& c = model.config();
  // <0xNN> ends with '>'; the unknown token with its own last character. Without an unknown token such a
  // character may vanish, and the characters on its two sides then meet.
  if (!c.unk_token || (c.byte_fallback && joins(">"))) cuts.unknown_joins = true;
  if (c.unk_token && !c.unk_token->empty()) {
    if (joins(last_character(*c.unk_token))) cuts.unknown_joins = true;
  }
  for (int ch = 0; ch < 128; ++ch) {
    const char byte = char(ch);
    cuts.ascii_cuts[ch] = cuts.cuts_after(model, ch == ' ' ? kMetaspace : std::string_view(&byte, 1));
  }
  return cuts;
}

}  // namespace

bool MetaspaceCuts::cuts_after(const hf::BpeModel& model, std::string_view character) const {
  if (std::find(joins.begin(), joins.end(), character) != joins.end()) return false;
  return !unknown_joins || model.unit_vocab().contains(character);
}

std::unique_ptr<FastPath> make_fast_path(const Tokenizer::Impl& t, const FastPathShape& shape) {
  // No normalizer stage (null, or an empty Sequence) is kNone whatever the field said.
  if (t.normalizer && !shape.normalizer) return nullptr;
  const FastNormalizer normalizer = t.normalizer ? *shape.normalizer : FastNormalizer::kNone;
  const hf::BpeModel& model = *t.model;
  const hf::BpeConfig& c = model.config();
  if (c.continuing_subword_prefix || c.end_of_word_suffix) return nullptr;
  FastSplit split;
  MetaspaceCuts cuts;
  if (c.byte_level) {
    if (normalizer == FastNormalizer::kSpacesToMetaspace) return nullptr;
    // A scanner family, or else the pre-tokenizer stage splits (the Encoding's own pattern, empty, is unused).
    if (shape.scanner) {
      split = FastSplit::kScanner;
    } else if (t.pre_tokenizer && t.pre_tokenizer->byte_level() && !t.pre_tokenizer->edits_text()) {
      split = FastSplit::kStage;
    } else {
      return nullptr;
    }
    // Every byte a token: then no piece reaches the unknown token or the byte fallback.
    for (int b = 0; b < 256; ++b) {
      const char byte = char(b);
      if (!model.unit_vocab().contains(std::string_view(&byte, 1))) return nullptr;
    }
  } else {
    // The SentencePiece shape. ignore_merges would look each part up whole, which BPE of the whole need not do.
    if (normalizer != FastNormalizer::kSpacesToMetaspace || c.ignore_merges) return nullptr;
    if (t.pre_tokenizer && !shape.splits_only_at_spaces) return nullptr;
    if (!model.unit_vocab().contains(kMetaspace)) return nullptr;
    split = FastSplit::kMetaspaceCuts;
    cuts = metaspace_cuts(model);
  }
  const bool space_form = split == FastSplit::kMetaspaceCuts;
  std::vector<std::pair<std::string, Rank>> whole;
  whole.reserve(model.unit_vocab().size());
  std::vector<uint32_t> ids;
  std::string spaced;
  model.unit_vocab().for_each([&](std::string_view bytes, uint32_t id) {
    // In the space form a ' ' stands for "▁": a token with a real ' ' never meets normalized text.
    if (space_form && bytes.find(' ') != std::string_view::npos) return;
    if (!c.ignore_merges && bytes.size() > 1) {
      ids.clear();
      model.tokenize_ids(bytes, ids);
      if (ids.size() != 1 || ids[0] != id) return;  // a token the merges never build from its own bytes
    }
    if (space_form) {
      replace_all(bytes, kMetaspace, " ", spaced);
      whole.emplace_back(spaced, id);
    } else {
      whole.emplace_back(bytes, id);
    }
  });
  auto ranks = Vocabulary::from_ranks(std::move(whole));
  if (!ranks.ok()) return nullptr;
  EncodingSpec spec;
  spec.name = "tokenizer.json";
  spec.pretokenizer = shape.scanner;
  spec.ranks = std::move(ranks).value();
  if (space_form) {
    spec.piece_encoder = std::make_shared<SpaceFormMergeListEncoder>(model);
  } else {
    spec.piece_encoder = std::make_shared<MergeListEncoder>(model);
  }
  auto encoding = Encoding::create(std::move(spec));
  if (!encoding.ok()) return nullptr;
  auto fast =
      std::make_unique<FastPath>(FastPath{std::move(encoding).value(), {}, {}, normalizer, split, std::move(cuts)});
  // What the post-processor puts around a sequence: run it on a one-token sequence and look where that token went.
  for (int special = 0; special < 2; ++special) {
    constexpr uint32_t kMarker = UINT32_MAX;
    Encoded enc;
    enc.ids = {kMarker};
    enc.type_ids = {0};
    enc.tokens = {std::string()};
    enc.offsets = {{0, 0}};
    enc.special_tokens_mask = {0};
    enc.attention_mask = {1};
    enc.word_ids = {0};
    if (t.post_processor) t.post_processor->process(enc, special == 1);
    size_t at = 0;
    while (at < enc.ids.size() && enc.ids[at] != kMarker) ++at;
    if (at == enc.ids.size()) return nullptr;
    fast->prefix[special].assign(enc.ids.begin(), enc.ids.begin() + long(at));
    fast->suffix[special].assign(enc.ids.begin() + long(at) + 1, enc.ids.end());
  }
  return fast;
}

namespace {

// FastSplit::kMetaspaceCuts: `segment` cut before each "▁" where MetaspaceCuts allows it.
void metaspace_parts(const Tokenizer::Impl& t, std::string_view segment, std::vector<std::string_view>& parts) {
  const MetaspaceCuts& cuts = t.fast->cuts;
  parts.clear();
  size_t part = 0;
  for (size_t at = segment.find(' ', 1); at != std::string_view::npos; at = segment.find(' ', at + 1)) {
    const auto last = static_cast<unsigned char>(segment[at - 1]);
    if (last < 0x80 ? !cuts.ascii_cuts[last] : !cuts.cuts_after(*t.model, last_character(segment.substr(0, at)))) {
      continue;
    }
    parts.push_back(segment.substr(part, at - part));
    part = at;
  }
  parts.push_back(segment.substr(part));
}

// The ids of one segment of normalized text without added tokens.
Status encode_segment(const Tokenizer::Impl& t, std::string_view segment, std::vector<uint32_t>& out) {
  const FastPath& fast = *t.fast;
  switch (fast.split) {
    case FastSplit::kScanner:
      return fast.encoding.encode_ordinary(segment, out);  // fails only out of memory
    case FastSplit::kMetaspaceCuts: {
      thread_local std::vector<std::string_view> parts;
      metaspace_parts(t, segment, parts);
      return fast.encoding.encode_pieces(parts, segment.data() + segment.size(), out);
    }
    case FastSplit::kStage:
      break;
  }
  hf::NormalizedString ns = hf::NormalizedString::identity(segment, 0);
  std::vector<Offsets> splits(1, {0, uint32_t(segment.size())});
  if (Status st = t.pre_tokenizer->pre_tokenize(ns, splits); !st.ok()) return st;
  std::vector<std::string_view> pieces;
  pieces.reserve(splits.size());
  const std::string_view text = ns.normalized;
  for (Offsets sp : splits) pieces.push_back(text.substr(sp.first, sp.second - sp.first));
  return fast.encoding.encode_pieces(pieces, text.data() + text.size(), out);
}

}  // namespace

Status encode_ids_fast(const Tokenizer::Impl& t, std::string_view text, bool add_special_tokens,
                       bool encode_special_tokens, std::vector<uint32_t>& out) {
  const FastPath& fast = *t.fast;
  out.insert(out.end(), fast.prefix[add_special_tokens].begin(), fast.prefix[add_special_tokens].end());
  if (Status st = encode_sequence_ids_fast(t, text, encode_special_tokens, out); !st.ok()) return st;
  out.insert(out.end(), fast.suffix[add_special_tokens].begin(), fast.suffix[add_special_tokens].end());
  return Status();
}

Status encode_sequence_ids_fast(const Tokenizer::Impl& t, std::string_view text, bool encode_special_tokens,
                                std::vector<uint32_t>& out) {
  const FastPath& fast = *t.fast;
  std::vector<hf::AddedSegment> raw, norm;
  if (t.raw_matcher) {
    t.raw_matcher->split(text, raw, encode_special_tokens);
  } else {
    raw.assign(1, {std::nullopt, {0, uint32_t(text.size())}});
  }
  std::string normalized, spaced;
  for (const hf::AddedSegment& seg : raw) {
    if (seg.id) {
      if (seg.range.first != seg.range.second) out.push_back(*seg.id);
      continue;
    }
    std::string_view segment = text.substr(seg.range.first, seg.range.second - seg.range.first);
    switch (fast.normalizer) {
      case FastNormalizer::kNone:
        break;
      case FastNormalizer::kNfc:
        nfc_into(*t.normalizer, segment, normalized);
        segment = normalized;
        break;
      case FastNormalizer::kSpacesToMetaspace:
        // The space form of the normalized text is the text with its literal "▁" as ' ' (usually none).
        if (!t.normalized_matcher && segment.find(kMetaspace) == std::string_view::npos) break;
        replace_all(segment, t.normalized_matcher ? " " : kMetaspace, t.normalized_matcher ? kMetaspace : " ",
                    normalized);
        segment = normalized;
        break;
    }
    if (!t.normalized_matcher) {
      if (Status st = encode_segment(t, segment, out); !st.ok()) return st;
      continue;
    }
    t.normalized_matcher->split(segment, norm, encode_special_tokens);
    for (const hf::AddedSegment& s : norm) {
      if (s.id) {
        if (s.range.first != s.range.second) out.push_back(*s.id);
        continue;
      }
      std::string_view part = segment.substr(s.range.first, s.range.second - s.range.first);
      if (fast.normalizer == FastNormalizer::kSpacesToMetaspace) {
        // Added tokens match the normalized text; the rest goes to the Encoding in the space form.
        replace_all(part, kMetaspace, " ", spaced);
        part = spaced;
      }
      if (Status st = encode_segment(t, part, out); !st.ok()) return st;
    }
  }
  return Status();
}

}  // namespace tokenmill
