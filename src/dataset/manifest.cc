#include "dataset/manifest.h"

#include <simdjson.h>

#include <cstdio>

namespace tokenmill::dataset {

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (uint8_t(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(uint8_t(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string Manifest::to_json() const {
  std::string j = "{\n  \"tokenmill_manifest\": 1,\n";
  j += "  \"complete\": " + std::string(complete ? "true" : "false") + ",\n";
  j += "  \"tokenizer\": {\"name\": " + json_quote(tokenizer_name) + ", \"sha256\": " + json_quote(tokenizer_sha256) +
       ", \"n_vocab\": " + std::to_string(n_vocab) + "},\n";
  j += "  \"options\": " + options_json + ",\n";
  j += "  \"inputs\": [";
  for (size_t i = 0; i < inputs.size(); ++i) {
    j += i ? ",\n    " : "\n    ";
    j += "{\"path\": " + json_quote(inputs[i].path) + ", \"size\": " + std::to_string(inputs[i].size) +
         ", \"sha256\": " + json_quote(inputs[i].sha256) + "}";
  }
  j += inputs.empty() ? "],\n" : "\n  ],\n";
  j += "  \"shards\": [";
  for (size_t i = 0; i < shards.size(); ++i) {
    const ShardRecord& s = shards[i];
    j += i ? ",\n    " : "\n    ";
    j += "{\"index\": " + std::to_string(s.index) + ", \"documents\": " + std::to_string(s.documents) +
         ", \"tokens\": " + std::to_string(s.tokens) + ", \"documents_end\": " + std::to_string(s.documents_end) +
         ", \"carry_tokens\": " + std::to_string(s.carry_tokens) + ", \"files\": [";
    for (size_t k = 0; k < s.files.size(); ++k) {
      if (k) j += ", ";
      j += "{\"path\": " + json_quote(s.files[k].path) + ", \"bytes\": " + std::to_string(s.files[k].bytes) +
           ", \"sha256\": " + json_quote(s.files[k].sha256) + "}";
    }
    j += "]}";
  }
  j += shards.empty() ? "],\n" : "\n  ],\n";
  j += "  \"documents\": " + std::to_string(documents) + ",\n";
  j += "  \"tokens\": " + std::to_string(tokens) + ",\n";
  j += "  \"skipped\": " + std::to_string(skipped) + ",\n";
  j += "  \"repaired\": " + std::to_string(repaired) + "\n}\n";
  return j;
}

Result<Manifest> Manifest::parse(std::string_view json, const std::string& source_name) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  auto bad = [&](const std::string& what) {
    return Status(ErrorCode::kParseError, source_name + ": not a tokenmill manifest (" + what + ")");
  };
  if (parser.parse(padded).get(root)) return bad("invalid JSON");
  Manifest m;
  uint64_t version = 0;
  if (root["tokenmill_manifest"].get(version) || version != 1) return bad("tokenmill_manifest must be 1");
  if (root["complete"].get(m.complete)) return bad("complete");
  std::string_view sv;
  if (root["tokenizer"]["name"].get(sv)) return bad("tokenizer.name");
  m.tokenizer_name = std::string(sv);
  if (root["tokenizer"]["sha256"].get(sv)) return bad("tokenizer.sha256");
  m.tokenizer_sha256 = std::string(sv);
  uint64_t n = 0;
  if (root["tokenizer"]["n_vocab"].get(n)) return bad("tokenizer.n_vocab");
  m.n_vocab = uint32_t(n);
  simdjson::dom::element options;
  if (root["options"].get(options)) return bad("options");
  m.options_json = simdjson::to_string(options);
  simdjson::dom::array arr;
  if (root["inputs"].get(arr)) return bad("inputs");
  for (auto in : arr) {
    InputInfo info;
    if (in["path"].get(sv)) return bad("inputs[].path");
    info.path = std::string(sv);
    if (in["size"].get(info.size)) return bad("inputs[].size");
    if (in["sha256"].get(sv)) return bad("inputs[].sha256");
    info.sha256 = std::string(sv);
    m.inputs.push_back(std::move(info));
  }
  if (root["shards"].get(arr)) return bad("shards");
  for (auto sh : arr) {
    ShardRecord r;
    if (sh["index"].get(r.index) || sh["documents"].get(r.documents) || sh["tokens"].get(r.tokens) ||
        sh["documents_end"].get(r.documents_end) || sh["carry_tokens"].get(r.carry_tokens)) {
      return bad("shards[] counts");
    }
    simdjson::dom::array files;
    if (sh["files"].get(files)) return bad("shards[].files");
    for (auto f : files) {
      FileRecord fr;
      if (f["path"].get(sv)) return bad("shards[].files[].path");
      fr.path = std::string(sv);
      if (f["bytes"].get(fr.bytes)) return bad("shards[].files[].bytes");
      if (f["sha256"].get(sv)) return bad("shards[].files[].sha256");
      fr.sha256 = std::string(sv);
      r.files.push_back(std::move(fr));
    }
    m.shards.push_back(std::move(r));
  }
  if (root["documents"].get(m.documents) || root["tokens"].get(m.tokens) || root["skipped"].get(m.skipped) ||
      root["repaired"].get(m.repaired)) {
    return bad("totals");
  }
  return m;
}

}  // namespace tokenmill::dataset
