// tokenizer.json -> the stages of a Tokenizer. Only what is implemented exactly is accepted: any other
// component, or a field value that would change the output, is an error naming the JSON path.
#include <simdjson.h>

#include <unordered_set>

#include "tokenizer/tokenizer_impl.h"
#include "util/json_error_location.h"
#include "util/utf8.h"

namespace tokenmill {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class Loader {
 public:
  explicit Loader(std::string_view source) : source_(source) {}

  Status error(const std::string& path, const std::string& what) const {
    return Status(ErrorCode::kParseError, std::string(source_) + ": " + path + ": " + what);
  }

  // Field helpers: a missing field gives `fallback`; a field of the wrong type is an error.
  Status get_bool(object o, const std::string& path, const char* key, bool fallback, bool* out) const {
    element e;
    if (o.at_key(key).get(e)) {
      *out = fallback;
      return Status();
    }
    if (e.is_null()) {
      *out = fallback;
      return Status();
    }
    if (!e.is_bool()) return error(path + "." + key, "expected true or false");
    *out = bool(e);
    return Status();
  }
  Status get_string(object o, const std::string& path, const char* key, std::optional<std::string>* out) const {
    element e;
    out->reset();
    if (o.at_key(key).get(e) || e.is_null()) return Status();
    if (!e.is_string()) return error(path + "." + key, "expected a string");
    *out = std::string(std::string_view(e));
    return Status();
  }
  Status get_type(object o, const std::string& path, std::string* out) const {
    std::optional<std::string> t;
    Status s = get_string(o, path, "type", &t);
    if (!s.ok()) return s;
    if (!t) return error(path + ".type", "missing");
    *out = *t;
    return Status();
  }
  Status get_uint(object o, const std::string& path, const char* key, uint64_t* out) const {
    element e;
    if (o.at_key(key).get(e) || !e.is_uint64()) {
      if (!o.at_key(key).get(e) && e.is_int64() && int64_t(e) >= 0) {
        *out = uint64_t(int64_t(e));
        return Status();
      }
      return error(path + "." + key, "expected a non-negative integer");
    }
    *out = uint64_t(e);
    return Status();
  }

  // The components of a Sequence: `o[key]`, each read by `read(element, path, is_last, out)`; nulls dropped.
  template <typename T, typename Read>
  Status sequence(object o, const std::string& path, const char* key, Read read,
                  std::vector<std::unique_ptr<T>>* list) {
    array parts;
    if (o[key].get(parts)) return error(path + "." + key, "expected an array");
    size_t n = parts.size(), i = 0;
    for (element p : parts) {
      std::unique_ptr<T> part;
      Status s = read(p, path + "." + key + "[" + std::to_string(i) + "]", i + 1 == n, &part);
      ++i;
      if (!s.ok()) return s;
      if (part) list->push_back(std::move(part));
    }
    return Status();
  }

  // A {"Regex": ...} or {"String": ...} pattern, as a regex (a String is the escaped literal, as in HF).
  Status pattern(object o, const std::string& path, std::optional<hf::HfRegex>* out) const {
    object pattern;
    const std::string where = path + ".pattern";
    if (o["pattern"].get(pattern)) return error(where, "expected {\"Regex\": ...} or {\"String\": ...}");
    std::optional<std::string> regex, literal;
    Status s = get_string(pattern, where, "Regex", &regex);
    if (s.ok()) s = get_string(pattern, where, "String", &literal);
    if (!s.ok()) return s;
    if (!regex && !literal) return error(where, "expected {\"Regex\": ...} or {\"String\": ...}");
    auto re = hf::HfRegex::compile(regex ? *regex : hf::escape_literal(*literal));
    if (!re.ok()) return error(where + (regex ? ".Regex" : ".String"), re.error());
    *out = std::move(re).value();
    return Status();
  }

  // Metaspace's fields, shared by the pre-tokenizer and the decoder (HF's defaults: prepend_scheme "always",
  // split true; a legacy add_prefix_space false means "never").
  Status metaspace(object o, const std::string& path, std::string* replacement, hf::PrependScheme* scheme,
                   bool* split) const {
    std::optional<std::string> rep, prepend;
    Status s = get_string(o, path, "replacement", &rep);
    if (s.ok()) s = get_string(o, path, "prepend_scheme", &prepend);
    if (s.ok()) s = get_bool(o, path, "split", true, split);
    if (!s.ok()) return s;
    if (!rep || rep->empty() || util::code_points(*rep).size() != 1) {
      return error(path + ".replacement", "expected one character");
    }
    *replacement = *rep;
    *scheme = hf::PrependScheme::kAlways;
    if (prepend) {
      if (*prepend == "first") {
        *scheme = hf::PrependScheme::kFirst;
      } else if (*prepend == "never") {
        *scheme = hf::PrependScheme::kNever;
      } else if (*prepend != "always") {
        return error(path + ".prepend_scheme", "expected \"first\", \"never\" or \"always\"");
      }
    }
    element add;
    if (!o.at_key("add_prefix_space").get(add) && add.is_bool() && !bool(add)) {
      if (*scheme != hf::PrependScheme::kNever) {
        return error(path + ".add_prefix_space", "false does not match prepend_scheme");
      }
    }
    return Status();
  }

  Status normalizer(element e, const std::string& path, std::unique_ptr<hf::Normalizer>* out) {
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error(path, "expected an object or null");
    std::string type;
    Status s = get_type(o, path, &type);
    if (!s.ok()) return s;
    if (type == "Sequence") {
      std::vector<std::unique_ptr<hf::Normalizer>> list;
      s = sequence(
          o, path, "normalizers",
          [&](element p, const std::string& where, bool, std::unique_ptr<hf::Normalizer>* n) {
            return normalizer(p, where, n);
          },
          &list);
      if (!s.ok()) return s;
      if (!list.empty()) *out = hf::make_sequence_normalizer(std::move(list));
      return Status();
    }
    if (type == "Replace") {
      std::optional<hf::HfRegex> re;
      std::optional<std::string> content;
      s = pattern(o, path, &re);
      if (s.ok()) s = get_string(o, path, "content", &content);
      if (!s.ok()) return s;
      if (!content) return error(path + ".content", "missing");
      *out = hf::make_replace_normalizer(std::move(*re), *content);
      return Status();
    }
    if (type == "Strip") {
      bool left, right;
      s = get_bool(o, path, "strip_left", false, &left);
      if (s.ok()) s = get_bool(o, path, "strip_right", false, &right);
      if (!s.ok()) return s;
      *out = hf::make_strip_normalizer(left, right);
      return Status();
    }
    if (type == "Prepend") {
      std::optional<std::string> prepend;
      s = get_string(o, path, "prepend", &prepend);
      if (!s.ok()) return s;
      if (!prepend) return error(path + ".prepend", "missing");
      *out = hf::make_prepend_normalizer(*prepend);
      return Status();
    }
    static const std::pair<const char*, std::unique_ptr<hf::Normalizer> (*)()> kPlain[] = {
        {"NFC", hf::make_nfc_normalizer},
        {"NFD", hf::make_nfd_normalizer},
        {"NFKC", hf::make_nfkc_normalizer},
        {"NFKD", hf::make_nfkd_normalizer},
        {"Lowercase", hf::make_lowercase_normalizer}};
    for (auto& [name, make] : kPlain) {
      if (type == name) {
        *out = make();
        return Status();
      }
    }
    return error(path + ".type", "normalizer '" + type + "' is not supported");
  }

  // `fallback`: the value when the field is missing (none: the field is required).
  Status behavior(object o, const std::string& path, std::optional<hf::SplitBehavior> fallback,
                  hf::SplitBehavior* out) {
    std::optional<std::string> b;
    Status s = get_string(o, path, "behavior", &b);
    if (!s.ok()) return s;
    if (!b && fallback) {
      *out = *fallback;
      return Status();
    }
    if (!b) return error(path + ".behavior", "missing");
    static const std::pair<const char*, hf::SplitBehavior> kNames[] = {
        {"Removed", hf::SplitBehavior::kRemoved},
        {"Isolated", hf::SplitBehavior::kIsolated},
        {"MergedWithPrevious", hf::SplitBehavior::kMergedWithPrevious},
        {"MergedWithNext", hf::SplitBehavior::kMergedWithNext},
        {"Contiguous", hf::SplitBehavior::kContiguous}};
    for (auto& [name, value] : kNames) {
      if (*b == name) {
        *out = value;
        return Status();
      }
    }
    return error(path + ".behavior", "unknown behavior '" + *b + "'");
  }

  // `last` says whether this is the last pre-tokenizer of the pipeline: ByteLevel must be, since the
  // stages after it would see its byte alphabet, which tokenmill never materialises.
  Status pre_tokenizer(element e, const std::string& path, bool last, std::unique_ptr<hf::PreTokenizer>* out) {
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error(path, "expected an object or null");
    std::string type;
    Status s = get_type(o, path, &type);
    if (!s.ok()) return s;
    // A factory's failure is a pattern that does not compile: the loader's fault, named at the component.
    auto take = [&](Result<std::unique_ptr<hf::PreTokenizer>> r) {
      if (!r.ok()) return error(path, r.error());
      *out = std::move(r).value();
      return Status();
    };
    if (type == "Sequence") {
      std::vector<std::unique_ptr<hf::PreTokenizer>> list;
      s = sequence(
          o, path, "pretokenizers",
          [&](element p, const std::string& where, bool is_last, std::unique_ptr<hf::PreTokenizer>* pt) {
            return pre_tokenizer(p, where, last && is_last, pt);
          },
          &list);
      if (!s.ok()) return s;
      *out = hf::make_sequence_pre_tokenizer(std::move(list));
      return Status();
    }
    if (type == "Split") {
      hf::SplitBehavior b = hf::SplitBehavior::kIsolated;
      bool invert;
      std::optional<hf::HfRegex> re;
      s = behavior(o, path, std::nullopt, &b);
      if (s.ok()) s = get_bool(o, path, "invert", false, &invert);
      if (s.ok()) s = pattern(o, path, &re);
      if (!s.ok()) return s;
      *out = hf::make_split_regex(std::move(*re), b, invert);
      return Status();
    }
    if (type == "ByteLevel") {
      bool add_prefix_space, use_regex;
      s = get_bool(o, path, "add_prefix_space", true, &add_prefix_space);
      if (!s.ok()) return s;
      s = get_bool(o, path, "use_regex", true, &use_regex);
      if (!s.ok()) return s;
      if (!last) return error(path, "a pre-tokenizer after ByteLevel is not supported");
      return take(hf::make_byte_level(add_prefix_space, use_regex));
    }
    if (type == "Metaspace") {
      std::string replacement;
      hf::PrependScheme scheme;
      bool split;
      s = metaspace(o, path, &replacement, &scheme, &split);
      if (!s.ok()) return s;
      return take(hf::make_metaspace(replacement, scheme, split));
    }
    if (type == "Digits") {
      bool individual;
      s = get_bool(o, path, "individual_digits", false, &individual);
      if (!s.ok()) return s;
      return take(hf::make_digits(individual));
    }
    if (type == "Punctuation") {
      hf::SplitBehavior b;
      s = behavior(o, path, hf::SplitBehavior::kIsolated, &b);
      if (!s.ok()) return s;
      return take(hf::make_punctuation(b));
    }
    if (type == "Whitespace") {
      *out = hf::make_whitespace();
      return Status();
    }
    if (type == "WhitespaceSplit") return take(hf::make_whitespace_split());
    return error(path + ".type", "pre-tokenizer '" + type + "' is not supported");
  }

  Status model(element e, const std::string& path, bool byte_level, std::optional<hf::BpeModel>* out) {
    object o;
    if (e.get(o)) return error(path, "expected an object");
    std::string type;
    Status s = get_type(o, path, &type);
    if (!s.ok()) return s;
    if (type != "BPE") return error(path + ".type", "model '" + type + "' is not supported");
    element dropout;
    if (!o.at_key("dropout").get(dropout) && !dropout.is_null()) {
      return error(path + ".dropout", "dropout is random; only null is supported");
    }
    hf::BpeConfig c;
    c.byte_level = byte_level;
    s = get_string(o, path, "unk_token", &c.unk_token);
    if (s.ok()) s = get_string(o, path, "continuing_subword_prefix", &c.continuing_subword_prefix);
    if (s.ok()) s = get_string(o, path, "end_of_word_suffix", &c.end_of_word_suffix);
    if (s.ok()) s = get_bool(o, path, "fuse_unk", false, &c.fuse_unk);
    if (s.ok()) s = get_bool(o, path, "byte_fallback", false, &c.byte_fallback);
    if (s.ok()) s = get_bool(o, path, "ignore_merges", false, &c.ignore_merges);
    if (!s.ok()) return s;
    object vocab;
    if (o["vocab"].get(vocab)) return error(path + ".vocab", "expected an object");
    c.vocab.reserve(vocab.size());
    for (auto field : vocab) {
      uint64_t id;
      if (field.value.get(id) || id > UINT32_MAX) {
        return error(path + ".vocab[\"" + std::string(field.key) + "\"]", "expected an id (0 .. 2^32-1)");
      }
      c.vocab.push_back({field.key, uint32_t(id)});
    }
    array merges;
    if (o["merges"].get(merges)) return error(path + ".merges", "expected an array");
    size_t i = 0;
    int strings = 0, pairs = 0;
    c.merges.reserve(merges.size());
    for (element m : merges) {
      // Built only for an error: a file has hundreds of thousands of merges.
      auto where = [&, at = i++] { return path + ".merges[" + std::to_string(at) + "]"; };
      std::string_view str;
      array pair;
      (m.is_string() ? strings : pairs)++;
      if (strings && pairs) {
        // HF reads the list as all strings or all pairs and refuses a mix.
        return error(where(), "mixes \"left right\" strings and [left, right] pairs");
      }
      if (!m.get(str)) {
        size_t sp = str.find(' ');
        if (sp == std::string_view::npos || str.find(' ', sp + 1) != std::string_view::npos) {
          return error(where(), "expected \"left right\" with exactly one space");
        }
        c.merges.push_back({str.substr(0, sp), str.substr(sp + 1)});
      } else if (!m.get(pair) && pair.size() == 2 && pair.at(0).is_string() && pair.at(1).is_string()) {
        c.merges.push_back({std::string_view(pair.at(0)), std::string_view(pair.at(1))});
      } else {
        return error(where(), "expected \"left right\" or [left, right]");
      }
    }
    auto bpe = hf::BpeModel::create(std::move(c));
    if (!bpe.ok()) return Status(ErrorCode::kParseError, std::string(source_) + ": " + bpe.error());
    *out = std::move(bpe).value();
    return Status();
  }

  // A TemplateProcessing template (`single` or `pair`): its SpecialToken and Sequence pieces.
  Status template_pieces(object o, const std::string& path, const char* key,
                         const std::map<std::string, hf::TemplateSpecial>& specials,
                         std::vector<hf::TemplatePiece>* out) const {
    const bool is_pair = std::string_view(key) == "pair";
    array list;
    if (o[key].get(list)) return error(path + "." + key, "expected an array");
    size_t i = 0;
    for (element p : list) {
      std::string where = path + "." + key + "[" + std::to_string(i++) + "]";
      object po, inner;
      if (p.get(po)) return error(where, "expected an object");
      hf::TemplatePiece piece;
      uint64_t type_id = 0;
      std::optional<std::string> id;
      Status s;
      if (!po["SpecialToken"].get(inner)) {
        s = get_string(inner, where + ".SpecialToken", "id", &id);
        if (!s.ok()) return s;
        if (!id || !specials.count(*id)) return error(where + ".SpecialToken.id", "not in special_tokens");
        piece.is_special = true;
        piece.special = *id;
        s = get_uint(inner, where + ".SpecialToken", "type_id", &type_id);
      } else if (!po["Sequence"].get(inner)) {
        s = get_string(inner, where + ".Sequence", "id", &id);
        if (!s.ok()) return s;
        if (id != "A" && (!is_pair || id != "B")) {
          return error(where + ".Sequence.id",
                       is_pair ? "expected A or B" : "a single template can only name sequence A");
        }
        piece.is_special = false;
        piece.sequence = id == "B" ? 1 : 0;
        s = get_uint(inner, where + ".Sequence", "type_id", &type_id);
      } else {
        return error(where, "expected SpecialToken or Sequence");
      }
      if (!s.ok()) return s;
      if (type_id > UINT32_MAX) return error(where, "type_id out of range");
      piece.type_id = uint32_t(type_id);
      out->push_back(std::move(piece));
    }
    return Status();
  }

  // `truncation`: HF's TruncationParams as serde writes them ({"direction": "Right", "max_length": 512,
  // "strategy": "LongestFirst", "stride": 0}; direction may be missing).
  Status truncation(element e, std::optional<TruncationParams>* out) const {
    out->reset();
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error("truncation", "expected an object or null");
    TruncationParams t;
    uint64_t max_length = 0, stride = 0;
    Status s = get_uint(o, "truncation", "max_length", &max_length);
    if (s.ok()) s = get_uint(o, "truncation", "stride", &stride);
    std::optional<std::string> strategy, direction;
    if (s.ok()) s = get_string(o, "truncation", "strategy", &strategy);
    if (s.ok()) s = get_string(o, "truncation", "direction", &direction);
    if (!s.ok()) return s;
    t.max_length = size_t(max_length);
    t.stride = size_t(stride);
    if (strategy == "LongestFirst") {
      t.strategy = TruncationParams::Strategy::kLongestFirst;
    } else if (strategy == "OnlyFirst") {
      t.strategy = TruncationParams::Strategy::kOnlyFirst;
    } else if (strategy == "OnlySecond") {
      t.strategy = TruncationParams::Strategy::kOnlySecond;
    } else {
      return error("truncation.strategy", "expected LongestFirst, OnlyFirst or OnlySecond");
    }
    if (!direction || direction == "Right") {
      t.direction = TruncationParams::Direction::kRight;
    } else if (direction == "Left") {
      t.direction = TruncationParams::Direction::kLeft;
    } else {
      return error("truncation.direction", "expected Left or Right");
    }
    *out = t;
    return Status();
  }

  // `padding`: HF's PaddingParams ({"strategy": "BatchLongest" or {"Fixed": n}, "direction": "Right",
  // "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}).
  Status padding(element e, std::optional<PaddingParams>* out) const {
    out->reset();
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error("padding", "expected an object or null");
    PaddingParams p;
    element strategy;
    object fixed;
    std::string_view name;
    if (o.at_key("strategy").get(strategy)) return error("padding.strategy", "missing");
    if (!strategy.get(name) && name == "BatchLongest") {
      p.length.reset();
    } else if (!strategy.get(fixed) && fixed.size() == 1 && !fixed.at_key("Fixed").error()) {
      uint64_t n = 0;
      Status s = get_uint(fixed, "padding.strategy", "Fixed", &n);
      if (!s.ok()) return s;
      p.length = size_t(n);
    } else {
      return error("padding.strategy", "expected \"BatchLongest\" or {\"Fixed\": n}");
    }
    std::optional<std::string> direction, token;
    Status s = get_string(o, "padding", "direction", &direction);
    if (s.ok()) s = get_string(o, "padding", "pad_token", &token);
    if (!s.ok()) return s;
    if (direction == "Left") {
      p.direction = PaddingParams::Direction::kLeft;
    } else if (direction == "Right") {
      p.direction = PaddingParams::Direction::kRight;
    } else {
      return error("padding.direction", "expected Left or Right");
    }
    if (!token) return error("padding.pad_token", "missing");
    p.pad_token = *token;
    uint64_t id = 0, type_id = 0;
    s = get_uint(o, "padding", "pad_id", &id);
    if (s.ok()) s = get_uint(o, "padding", "pad_type_id", &type_id);
    if (!s.ok()) return s;
    if (id > UINT32_MAX) return error("padding.pad_id", "out of range");
    if (type_id > UINT32_MAX) return error("padding.pad_type_id", "out of range");
    p.pad_id = uint32_t(id);
    p.pad_type_id = uint32_t(type_id);
    element multiple;
    if (!o.at_key("pad_to_multiple_of").get(multiple) && !multiple.is_null()) {
      uint64_t m = 0;
      s = get_uint(o, "padding", "pad_to_multiple_of", &m);
      if (!s.ok()) return s;
      p.pad_to_multiple_of = size_t(m);
    }
    *out = p;
    return Status();
  }

  Status post_processor(element e, const std::string& path, std::unique_ptr<hf::PostProcessor>* out) {
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error(path, "expected an object or null");
    std::string type;
    Status s = get_type(o, path, &type);
    if (!s.ok()) return s;
    if (type == "Sequence") {
      std::vector<std::unique_ptr<hf::PostProcessor>> list;
      s = sequence(
          o, path, "processors",
          [&](element p, const std::string& where, bool, std::unique_ptr<hf::PostProcessor>* pp) {
            return post_processor(p, where, pp);
          },
          &list);
      if (!s.ok()) return s;
      *out = hf::make_sequence_processor(std::move(list));
      return Status();
    }
    if (type == "ByteLevel") {
      bool trim, add_prefix_space;
      s = get_bool(o, path, "trim_offsets", true, &trim);
      if (s.ok()) s = get_bool(o, path, "add_prefix_space", true, &add_prefix_space);
      if (!s.ok()) return s;
      *out = hf::make_byte_level_processor(trim, add_prefix_space);
      return Status();
    }
    if (type == "TemplateProcessing") {
      std::map<std::string, hf::TemplateSpecial> specials;
      object sp;
      if (o["special_tokens"].get(sp)) return error(path + ".special_tokens", "expected an object");
      for (auto field : sp) {
        std::string where = path + ".special_tokens[\"" + std::string(field.key) + "\"]";
        object t;
        array ids, tokens;
        if (field.value.get(t) || t["ids"].get(ids) || t["tokens"].get(tokens) || ids.size() != tokens.size()) {
          return error(where, "expected {ids: [...], tokens: [...]} of equal length");
        }
        hf::TemplateSpecial ts;
        for (element id : ids) {
          uint64_t v;
          if (id.get(v) || v > UINT32_MAX) return error(where + ".ids", "expected ids");
          ts.ids.push_back(uint32_t(v));
        }
        for (element tok : tokens) {
          std::string_view v;
          if (tok.get(v)) return error(where + ".tokens", "expected strings");
          ts.tokens.push_back(std::string(v));
        }
        specials.emplace(std::string(field.key), std::move(ts));
      }
      std::vector<hf::TemplatePiece> single, pair;
      s = template_pieces(o, path, "single", specials, &single);
      if (s.ok()) s = template_pieces(o, path, "pair", specials, &pair);
      if (!s.ok()) return s;
      *out = hf::make_template_processor(std::move(single), std::move(pair), std::move(specials));
      return Status();
    }
    return error(path + ".type", "post-processor '" + type + "' is not supported");
  }

  Status decoder(element e, const std::string& path, std::unique_ptr<hf::Decoder>* out) {
    if (e.is_null()) return Status();
    object o;
    if (e.get(o)) return error(path, "expected an object or null");
    std::string type;
    Status s = get_type(o, path, &type);
    if (!s.ok()) return s;
    if (type == "Sequence") {
      std::vector<std::unique_ptr<hf::Decoder>> list;
      s = sequence(
          o, path, "decoders",
          [&](element p, const std::string& where, bool, std::unique_ptr<hf::Decoder>* d) {
            return decoder(p, where, d);
          },
          &list);
      if (!s.ok()) return s;
      *out = hf::make_sequence_decoder(std::move(list));
      return Status();
    }
    if (type == "ByteLevel") {
      *out = hf::make_byte_level_decoder();
      return Status();
    }
    if (type == "Metaspace") {
      std::string replacement;
      hf::PrependScheme scheme;
      bool split;
      s = metaspace(o, path, &replacement, &scheme, &split);
      if (!s.ok()) return s;
      *out = hf::make_metaspace_decoder(replacement, scheme != hf::PrependScheme::kNever);
      return Status();
    }
    if (type == "ByteFallback") {
      *out = hf::make_byte_fallback_decoder();
      return Status();
    }
    if (type == "Fuse") {
      *out = hf::make_fuse_decoder();
      return Status();
    }
    if (type == "Replace") {
      object pattern;
      std::optional<std::string> literal, content;
      if (o["pattern"].get(pattern)) return error(path + ".pattern", "expected {\"String\": ...}");
      s = get_string(pattern, path + ".pattern", "String", &literal);
      if (s.ok()) s = get_string(o, path, "content", &content);
      if (!s.ok()) return s;
      if (!literal) return error(path + ".pattern", "only a String pattern is supported");
      if (!content) return error(path + ".content", "missing");
      *out = hf::make_replace_decoder(*literal, *content);
      return Status();
    }
    if (type == "Strip") {
      std::optional<std::string> content;
      uint64_t start = 0, stop = 0;
      s = get_string(o, path, "content", &content);
      if (s.ok()) s = get_uint(o, path, "start", &start);
      if (s.ok()) s = get_uint(o, path, "stop", &stop);
      if (!s.ok()) return s;
      if (!content) return error(path + ".content", "missing");
      *out = hf::make_strip_decoder(*content, size_t(start), size_t(stop));
      return Status();
    }
    return error(path + ".type", "decoder '" + type + "' is not supported");
  }

  Status added_tokens(element e, Tokenizer::Impl& t) {
    if (e.is_null()) return Status();
    array list;
    if (e.get(list)) return error("added_tokens", "expected an array");
    size_t i = 0;
    for (element a : list) {
      std::string path = "added_tokens[" + std::to_string(i++) + "]";
      object o;
      if (a.get(o)) return error(path, "expected an object");
      uint64_t id;
      Status s = get_uint(o, path, "id", &id);
      if (!s.ok()) return s;
      if (id > UINT32_MAX) return error(path + ".id", "out of range");
      std::optional<std::string> content;
      s = get_string(o, path, "content", &content);
      if (!s.ok()) return s;
      if (!content) return error(path + ".content", "missing");
      Tokenizer::AddedToken tok{uint32_t(id), *content, false, false, false, false, true};
      s = get_bool(o, path, "special", false, &tok.special);
      if (s.ok()) s = get_bool(o, path, "lstrip", false, &tok.lstrip);
      if (s.ok()) s = get_bool(o, path, "rstrip", false, &tok.rstrip);
      if (s.ok()) s = get_bool(o, path, "single_word", false, &tok.single_word);
      if (s.ok()) s = get_bool(o, path, "normalized", !tok.special, &tok.normalized);
      if (!s.ok()) return s;
      if (t.added_by_id.count(tok.id)) {
        return error(path + ".id", "id " + std::to_string(tok.id) + " is already the added token '" +
                                       t.added[t.added_by_id[tok.id]].content + "'");
      }
      if (t.added_by_content.count(tok.content)) {
        return error(path + ".content", "'" + tok.content + "' is already an added token");
      }
      if (auto mid = t.model->token_to_id(tok.content); mid && *mid != tok.id) {
        return error(path, "'" + tok.content + "' has id " + std::to_string(tok.id) + " but the model gives it " +
                               std::to_string(*mid));
      }
      if (const auto other = t.model->id_to_token(tok.id); other && *other != tok.content) {
        return error(path + ".id", "id " + std::to_string(tok.id) + " of '" + tok.content + "' is the model's token '" +
                                       std::string(*other) + "'");
      }
      t.added_by_id[tok.id] = t.added.size();
      t.added_by_content[tok.content] = tok.id;
      t.added.push_back(std::move(tok));
    }
    return Status();
  }

 private:
  std::string_view source_;
};

}  // namespace

Result<std::shared_ptr<Tokenizer::Impl>> load_tokenizer_json(std::string json, std::string_view source) {
  Loader L(source);
  // Parsed in place: simdjson reads up to SIMDJSON_PADDING bytes past the end, so the text gets them.
  // The text and the parsed document are freed before the fast path's tables are built (each is as large).
  const size_t size = json.size();
  json.append(simdjson::SIMDJSON_PADDING, ' ');
  auto parser = std::make_unique<simdjson::dom::parser>();
  element root;
  // simdjson reports a failed allocation as a value, MEMALLOC.
  auto err = parser->parse(json.data(), size, /*realloc_if_needed=*/false).get(root);
  if (err == simdjson::MEMALLOC) {
    return Status(ErrorCode::kOutOfMemory, std::string(source) + ": out of memory parsing the tokenizer.json");
  }
  if (err) {
    const std::string_view text(json.data(), size);
    const std::optional<size_t> at = util::json_error_offset(text);
    return Status(ErrorCode::kParseError, std::string(source) + ": not valid JSON" +
                                              (at ? " at " + util::describe_offset(text, *at) : std::string()) + ": " +
                                              simdjson::error_message(err));
  }
  object top;
  if (root.get(top)) return L.error("(root)", "expected an object");
  // A missing component reads as null.
  static simdjson::dom::parser null_parser;
  static const element null_element = null_parser.parse(simdjson::padded_string(std::string_view("null"))).value();
  auto field = [&](const char* key) -> element {
    element e;
    if (top.at_key(key).get(e)) return null_element;
    return e;
  };
  auto impl = std::make_shared<Tokenizer::Impl>();
  Status s = L.truncation(field("truncation"), &impl->truncation);
  if (s.ok()) s = L.padding(field("padding"), &impl->padding);
  if (!s.ok()) return s;
  s = L.normalizer(field("normalizer"), "normalizer", &impl->normalizer);
  if (!s.ok()) return s;
  s = L.pre_tokenizer(field("pre_tokenizer"), "pre_tokenizer", true, &impl->pre_tokenizer);
  if (!s.ok()) return s;
  element model;
  if (top.at_key("model").get(model)) return L.error("model", "missing");
  s = L.model(model, "model", impl->pre_tokenizer && impl->pre_tokenizer->byte_level(), &impl->model);
  if (!s.ok()) return s;
  s = L.added_tokens(field("added_tokens"), *impl);
  if (!s.ok()) return s;
  s = L.post_processor(field("post_processor"), "post_processor", &impl->post_processor);
  if (!s.ok()) return s;
  s = L.decoder(field("decoder"), "decoder", &impl->decoder);
  if (!s.ok()) return s;

  std::vector<hf::AddedMatcher::Pattern> raw, normalized;
  std::unordered_set<std::string_view> special_contents;
  for (const auto& a : impl->added)
    if (a.special) special_contents.insert(a.content);
  for (const auto& a : impl->added) {
    hf::AddedMatcher::Pattern p{a.content, a.id, a.lstrip, a.rstrip, a.single_word, false};
    p.special = special_contents.contains(a.content);
    impl->added_text.push_back(a.content);
    if (a.normalized) {
      // Matched after normalizing, so by the normalized form of its content.
      if (impl->normalizer) {
        hf::NormalizedString ns = hf::NormalizedString::identity(a.content, 0);
        impl->normalizer->normalize(ns);
        p.text = ns.normalized;
        impl->added_text.back() = ns.normalized;
      }
      normalized.push_back(std::move(p));
    } else {
      raw.push_back(std::move(p));
    }
  }
  if (!raw.empty()) impl->raw_matcher.emplace(std::move(raw));
  if (!normalized.empty()) impl->normalized_matcher.emplace(std::move(normalized));
  const FastPathShape shape = fast_path_shape(field("normalizer"), field("pre_tokenizer"));
  parser.reset();
  std::string().swap(json);
  impl->fast = make_fast_path(*impl, shape);
  return impl;
}

}  // namespace tokenmill
