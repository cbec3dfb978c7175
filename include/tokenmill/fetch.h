// Getting rank files onto the machine: a cache folder, filled once by a fetch that verifies tiktoken's
// official sha256 of every file, and usable offline afterwards.
//
//   tokenmill::FetchOptions opts;                      // cache: TOKENMILL_CACHE_DIR, else ~/.cache/tokenmill
//   opts.progress = [](std::string_view line) { ... };  // optional: the library itself never prints
//   tokenmill::Status s = tokenmill::fetch_rank_file("cl100k_base", opts);
//
// Sources, in order: `opts.from` if given (a `.tiktoken` file, the npm package's `.tgz`, or its unpacked
// folder); else the npm registry's `tiktoken@1.0.22`, whose `encoders/*.json` carry the official ranks in
// a compact form; else OpenAI's own URL. Downloads go through libcurl (which honours HTTPS_PROXY,
// https_proxy, NO_PROXY) and the tarball is read with zlib: nothing is run and nothing depends on PATH.
// Whatever the source, the file is written only if its sha256 equals the one tiktoken checks, and only by
// an atomic rename, so the cache never holds a partial file. Threads of one process fetch one at a time;
// processes that fetch the same file at once each publish identical verified bytes by rename, so all of
// them succeed.
//
// Offline: with `opts.offline` or TOKENMILL_OFFLINE=1 (any value but empty or "0") nothing touches the
// network; a file that is not cached (or given by `opts.from`) is an error naming the path to put it at.
#pragma once

#include <functional>
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
// TOKENMILL_OFFLINE is set to something other than "" or "0".
bool offline_from_environment();

struct FetchOptions {
  std::string cache_dir;  // empty = default_cache_dir()
  std::string from;       // optional local source (see above)
  // Progress lines ("downloading URL", "wrote PATH"), for the caller to show or not. Empty: silent.
  std::function<void(std::string_view)> progress;
  bool offline = false;  // also on when offline_from_environment()
  // Where to download from; empty = the npm registry's tiktoken-1.0.22.tgz and OpenAI's encodings folder.
  // For mirrors and tests (a loopback server).
  std::string npm_tarball_url;
  std::string openai_url_prefix;  // + "<name>.tiktoken"
};

// Path of the cached rank file `name` (fetching and verifying it first if missing and `fetch` is set).
// A cached file is returned as is: Encoding::load verifies its sha256 on every load.
Result<std::string> rank_file_path(std::string_view name, const FetchOptions& options, bool fetch);
Status fetch_rank_file(std::string_view name, const FetchOptions& options);

// The npm package stores ranks as whitespace-separated fields: `! N` sets the next rank to N; every other
// field is a base64 token that takes the running rank. Returns the `.tiktoken` text.
Result<std::string> npm_bpe_ranks_to_tiktoken(std::string_view bpe_ranks, std::string_view source_name);

// The contents of the regular file `member` (e.g. "package/encoders/r50k_base.json") in a gzip-compressed
// tar archive (ustar, with pax or GNU long names). Errors name `source_name` and what is wrong: not gzip,
// truncated, a bad header checksum, no such member.
Result<std::string> read_tgz_member(std::string_view tgz, std::string_view member, std::string_view source_name);

}  // namespace tokenmill
