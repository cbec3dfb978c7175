#include "tokenmill/tekken.h"

#include <simdjson.h>

#include <unordered_set>

#include "tokenmill/file_io.h"
#include "tokenmill/vocab.h"
#include "util/no_throw.h"

namespace tokenmill {

namespace {

// mistral-common 1.13.1, Tekkenizer.DEPRECATED_SPECIAL_TOKENS: the special tokens of files that list none
// (versions up to v7), ids 0..19.
constexpr std::string_view kDeprecatedSpecials[] = {"<unk>",
                                                    "<s>",
                                                    "</s>",
                                                    "[INST]",
                                                    "[/INST]",
                                                    "[AVAILABLE_TOOLS]",
                                                    "[/AVAILABLE_TOOLS]",
                                                    "[TOOL_RESULTS]",
                                                    "[/TOOL_RESULTS]",
                                                    "[TOOL_CALLS]",
                                                    "[IMG]",
                                                    "<pad>",
                                                    "[IMG_BREAK]",
                                                    "[IMG_END]",
                                                    "[PREFIX]",
                                                    "[MIDDLE]",
                                                    "[SUFFIX]",
                                                    "[SYSTEM_PROMPT]",
                                                    "[/SYSTEM_PROMPT]",
                                                    "[TOOL_CONTENT]"};

// mistral-common's TokenizerVersion, in order; files after v7 must list their special tokens.
constexpr std::string_view kVersions[] = {"v1", "v2", "v3", "v7", "v11", "v13", "v15"};

Status parse_error(std::string_view source, const std::string& what) {
  return Status(ErrorCode::kParseError, std::string(source) + ": " + what);
}

Result<uint64_t> get_uint(simdjson::dom::object obj, std::string_view field, std::string_view source,
                          const std::string& path) {
  uint64_t v;
  if (obj[field].get_uint64().get(v))
    return parse_error(source, path + "." + std::string(field) + ": missing or not a non-negative integer");
  return v;
}

}  // namespace

Result<Tekken> Tekken::from_file(const std::string& path) try {
  auto text = read_file(path, kNoSizeLimit, "Tekken file");
  if (!text.ok()) return text.status();
  return from_string(*text, path);
} catch (...) {
  return util::exception_status([&] { return "loading the Tekken file " + path; });
}

Result<Tekken> Tekken::from_string(std::string_view json, std::string_view source_name) try {
  return parse(json, source_name);
} catch (...) {
  return util::exception_status([&] { return "loading the Tekken file " + std::string(source_name); });
}

Result<Tekken> Tekken::parse(std::string_view json, std::string_view source) {
  // simdjson reports failed allocations as values: an empty padded copy, or MEMALLOC from the parser.
  const simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = padded.size() != json.size() ? simdjson::MEMALLOC : parser.parse(padded).get(root);
  if (err == simdjson::MEMALLOC) {
    return Status(ErrorCode::kOutOfMemory, std::string(source) + ": out of memory parsing the Tekken file");
  }
  if (err) return parse_error(source, std::string("not valid JSON: ") + simdjson::error_message(err));
  simdjson::dom::object top, config;
  if (root.get_object().get(top)) return parse_error(source, "the top level is not an object");
  if (top["config"].get_object().get(config)) return parse_error(source, "config: missing or not an object");
  std::string_view pattern, version;
  if (config["pattern"].get_string().get(pattern))
    return parse_error(source, "config.pattern: missing or not a string");
  if (config["version"].get_string().get(version))
    return parse_error(source, "config.version: missing or not a string");
  size_t version_index = std::size(kVersions);
  for (size_t i = 0; i < std::size(kVersions); ++i) {
    if (kVersions[i] == version) version_index = i;
  }
  if (version_index == std::size(kVersions)) {
    return parse_error(source, "config.version: unknown version '" + std::string(version) + "'");
  }
  auto vocab_size = get_uint(config, "default_vocab_size", source, "config");
  if (!vocab_size.ok()) return vocab_size.status();
  auto num_special = get_uint(config, "default_num_special_tokens", source, "config");
  if (!num_special.ok()) return num_special.status();
  // Before the fillers below are made, one string per special token: a huge count must be an error, not
  // an allocation that ends the process. Mistral's files have 1000; a million is room for any real one.
  constexpr uint64_t kMaxSpecials = uint64_t(1) << 20;
  if (*vocab_size >= kNoRank) return parse_error(source, "config.default_vocab_size: too large");
  if (*num_special > kMaxSpecials) {
    return parse_error(source, "config.default_num_special_tokens " + std::to_string(*num_special) +
                                   ": more than the " + std::to_string(kMaxSpecials) + " tokenmill accepts");
  }
  if (*num_special > *vocab_size) {
    return parse_error(source, "config.default_num_special_tokens " + std::to_string(*num_special) +
                                   " is more than config.default_vocab_size " + std::to_string(*vocab_size));
  }

  // Special tokens: the file's list (each at the id its rank names), padded with <SPECIAL_i> fillers.
  std::vector<std::string> specials;
  simdjson::dom::array listed;
  if (auto err = top["special_tokens"].get_array().get(listed); err == simdjson::SUCCESS) {
    size_t i = 0;
    for (simdjson::dom::element e : listed) {
      const std::string path = "special_tokens[" + std::to_string(i) + "]";
      simdjson::dom::object t;
      std::string_view text;
      if (e.get_object().get(t)) return parse_error(source, path + ": not an object");
      if (t["token_str"].get_string().get(text))
        return parse_error(source, path + ".token_str: missing or not a string");
      auto rank = get_uint(t, "rank", source, path);
      if (!rank.ok()) return rank.status();
      if (*rank != i) {
        return parse_error(source, path + ".rank: " + std::to_string(*rank) + ", expected " + std::to_string(i) +
                                       " (special tokens take the first ids, in order)");
      }
      specials.emplace_back(text);
      ++i;
    }
  } else if (err != simdjson::NO_SUCH_FIELD) {
    return parse_error(source, "special_tokens: not an array");
  } else if (version_index > 3) {  // after v7
    return parse_error(source, "special_tokens: missing; files of version " + std::string(version) + " must list them");
  } else {
    specials.assign(std::begin(kDeprecatedSpecials), std::end(kDeprecatedSpecials));
  }
  if (specials.size() > *num_special) {
    return parse_error(source, "special_tokens: " + std::to_string(specials.size()) +
                                   " listed, more than config.default_num_special_tokens " +
                                   std::to_string(*num_special));
  }
  for (size_t i = specials.size(); i < *num_special; ++i) specials.push_back("<SPECIAL_" + std::to_string(i) + ">");
  std::unordered_set<std::string_view> seen;
  for (const auto& s : specials) {
    if (!seen.insert(s).second) return parse_error(source, "special_tokens: '" + s + "' is listed twice");
  }

  // The vocabulary: the first vocab_size - num_special entries, rank i at position i, each id offset.
  simdjson::dom::array vocab;
  if (top["vocab"].get_array().get(vocab)) return parse_error(source, "vocab: missing or not an array");
  if (*vocab_size < *num_special || *vocab_size - *num_special > vocab.size()) {
    return parse_error(source, "config.default_vocab_size " + std::to_string(*vocab_size) + " is not between " +
                                   "default_num_special_tokens " + std::to_string(*num_special) +
                                   " and that plus the " + std::to_string(vocab.size()) + " vocab entries");
  }
  const size_t inner = *vocab_size - *num_special;
  std::vector<std::pair<std::string, Rank>> ranks;
  ranks.reserve(inner);
  size_t i = 0;
  for (simdjson::dom::element e : vocab) {
    if (i == inner) break;
    const std::string path = "vocab[" + std::to_string(i) + "]";
    simdjson::dom::object t;
    std::string_view b64;
    if (e.get_object().get(t)) return parse_error(source, path + ": not an object");
    auto rank = get_uint(t, "rank", source, path);
    if (!rank.ok()) return rank.status();
    if (*rank != i) {
      return parse_error(source, path + ".rank: " + std::to_string(*rank) + ", expected " + std::to_string(i));
    }
    if (t["token_bytes"].get_string().get(b64))
      return parse_error(source, path + ".token_bytes: missing or not a string");
    auto bytes = base64_decode(b64);
    if (!bytes || bytes->empty()) return parse_error(source, path + ".token_bytes: not base64 of a non-empty token");
    ranks.emplace_back(std::move(*bytes), Rank(i + *num_special));
    ++i;
  }
  auto table = Vocabulary::from_ranks(std::move(ranks));
  if (!table.ok()) return Status(table.status().code(), std::string(source) + ": vocab: " + table.error());

  EncodingSpec spec;
  spec.name = std::string(source);
  spec.pattern = std::string(pattern);
  spec.ranks = std::move(table).value();
  for (size_t id = 0; id < specials.size(); ++id) spec.special_tokens.emplace_back(specials[id], Rank(id));
  auto encoding = Encoding::create(std::move(spec));
  if (!encoding.ok()) return encoding.status();
  return Tekken(std::move(encoding).value(), std::move(specials), uint32_t(*vocab_size), std::string(version));
}

std::optional<uint32_t> Tekken::special_token_id(std::string_view token) const {
  for (uint32_t id = 0; id < specials_.size(); ++id) {
    if (specials_[id] == token) return id;
  }
  return std::nullopt;
}

Result<std::vector<uint32_t>> Tekken::encode(std::string_view text, bool bos, bool eos) const try {
  std::optional<uint32_t> bos_id, eos_id;
  if (bos && !(bos_id = special_token_id("<s>"))) {
    return Status(ErrorCode::kNotFound, encoding_.name() + ": bos requested, but there is no special token <s>");
  }
  if (eos && !(eos_id = special_token_id("</s>"))) {
    return Status(ErrorCode::kNotFound, encoding_.name() + ": eos requested, but there is no special token </s>");
  }
  auto ids = encoding_.encode_ordinary(text);
  if (!ids.ok()) return ids.status();
  if (bos_id) ids->insert(ids->begin(), *bos_id);
  if (eos_id) ids->push_back(*eos_id);
  return ids;
} catch (...) {
  return util::exception_status([&] { return "encoding " + std::to_string(text.size()) + " bytes of text"; });
}

Result<std::string> Tekken::decode(std::span<const uint32_t> ids, SpecialTokenPolicy policy) const try {
  std::string out;
  const uint32_t n_special = num_special_tokens();
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] >= vocab_size_) {
      return Status(ErrorCode::kUnknownToken, encoding_.name() + ": id " + std::to_string(ids[i]) + " (number " +
                                                  std::to_string(i + 1) + ") is not below the vocabulary size " +
                                                  std::to_string(vocab_size_));
    }
    if (ids[i] < n_special) {
      if (policy == SpecialTokenPolicy::kRaise) {
        return Status(ErrorCode::kInvalidArgument, encoding_.name() + ": id " + std::to_string(ids[i]) + " (number " +
                                                       std::to_string(i + 1) + ") is the special token " +
                                                       specials_[ids[i]] + ", and the policy is to raise");
      }
      if (policy == SpecialTokenPolicy::kKeep) out += specials_[ids[i]];
      ++i;
      continue;
    }
    // A run of ordinary ids, decoded (and its invalid UTF-8 replaced) on its own, as mistral-common does.
    size_t j = i;
    while (j < ids.size() && ids[j] >= n_special && ids[j] < vocab_size_) ++j;
    auto text = encoding_.decode(ids.subspan(i, j - i));
    if (!text.ok()) return text.status();
    out += *text;
    i = j;
  }
  return out;
} catch (...) {
  return util::exception_status([&] { return "decoding " + std::to_string(ids.size()) + " ids"; });
}

}  // namespace tokenmill
