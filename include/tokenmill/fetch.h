// Getting rank files onto the machine: a cache folder, filled once by a fetch that verifies tiktoken's
// official sha256 of every file, and usable offline afterwards.
//
//   tokenmill::FetchOptions opts;                      // cache: TOKENMILL_CACHE_DIR, else ~/.cache/tokenmill
//   tokenmill::Status s = tokenmill::fetch_rank_file("cl100k_base", opts);
//
// Sources, in order: `opts.from` if given (a `.tiktoken` file, the npm package's `.tgz`, or its unpacked
// folder); else the npm registry's `tiktoken@1.0.22`, whose `encoders/*.json` carry the official ranks in
// a compact form; else OpenAI's own URL. Whatever the source, the file is written only if its sha256 equals
// the one tiktoken checks, and only by an atomic rename, so the cache never holds a partial file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/status.h"

namespace tokenmill {

struct RankFileInfo {
  std::string_view name;        // file stem: r50k_base, p50k_base, cl100k_base, o200k_base
  std::string_view sha256;      // of the .tiktoken file, as in tiktoken_ext/openai_public.py
  std::string_view npm_json;    // encoders/<npm_json> in the npm package
};

const std::vector<RankFileInfo>& known_rank_files();
std::string default_cache_dir();

struct FetchOptions {
  std::string cache_dir;  // empty = default_cache_dir()
  std::string from;       // optional local source (see above)
  bool verbose = false;   // progress lines on stderr
};

// Path of the cached, verified rank file `name` (fetching it first if missing and `fetch` is set).
Result<std::string> rank_file_path(std::string_view name, const FetchOptions& options, bool fetch);
Status fetch_rank_file(std::string_view name, const FetchOptions& options);

// The npm package stores ranks as whitespace-separated fields: `! N` sets the next rank to N; every other
// field is a base64 token that takes the running rank. Returns the `.tiktoken` text.
Result<std::string> npm_bpe_ranks_to_tiktoken(std::string_view bpe_ranks, std::string_view source_name);

}  // namespace tokenmill
