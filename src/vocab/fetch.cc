#include "tokenmill/fetch.h"

#include <curl/curl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <zlib.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "util/atomic_file.h"
#include "util/no_throw.h"
#include "util/sha256.h"

namespace tokenmill {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kNpmTarballUrl = "https://registry.npmjs.org/tiktoken/-/tiktoken-1.0.22.tgz";
constexpr std::string_view kNpmTarballName = "tiktoken-1.0.22.tgz";
// npm tarballs are immutable; pinning this one lets a truncated or altered cached copy be told apart
// from a good one before it is unpacked.
constexpr std::string_view kNpmTarballSha256 = "55c339e756fdb17604f7c7e3eb35d2bcbffe4d960e8096e50285d1cefa51dd90";
constexpr std::string_view kOpenAiUrlPrefix = "https://openaipublic.blob.core.windows.net/encodings/";
// Far above the largest real file (the 10.6 MB tarball, 30 MB unpacked): a bound on what a bad server or
// a gzip bomb can make us hold in memory.
constexpr size_t kMaxDownload = size_t(64) << 20;
constexpr size_t kMaxUnpacked = size_t(256) << 20;

// Reads a whole regular file; a directory or a device at `path` is an error, not an exception.
Result<std::string> read_file(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status(ErrorCode::kIoError, path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(f);
    return Status(ErrorCode::kIoError, path.string() + ": not a regular file");
  }
  std::string data(size_t(st.st_size), '\0');
  size_t n = std::fread(data.data(), 1, data.size(), f);
  bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status(ErrorCode::kIoError, path.string() + ": read error");
  data.resize(n);
  return data;
}

// Something other than a regular file where a cache file belongs (a directory, left by a user or a bad
// script) would otherwise surface as a confusing rename or read failure much later.
Status check_not_special(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || st.type() == fs::file_type::not_found || st.type() == fs::file_type::regular) return Status();
  const char* what = st.type() == fs::file_type::directory ? "a directory" : "not a regular file";
  return Status(ErrorCode::kIoError,
                path.string() + " is " + what + ", where the cache keeps a file; remove it and fetch again");
}

bool is_regular(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

const RankFileInfo* find_info(std::string_view name) {
  for (const auto& info : known_rank_files()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

Result<std::string> tiktoken_from_npm_json(std::string_view json_text, const std::string& source) {
  simdjson::padded_string json(json_text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string_view ranks;
  if (parser.iterate(json).get(doc) || doc["bpe_ranks"].get_string().get(ranks)) {
    return Status(ErrorCode::kParseError, source + ": no \"bpe_ranks\" string");
  }
  return npm_bpe_ranks_to_tiktoken(ranks, source);
}

// ---- HTTP through libcurl ----

size_t append_body(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxDownload) return 0;  // makes curl fail with CURLE_WRITE_ERROR
  body->append(data, size * n);
  return size * n;
}

// A bundled libcurl (the portable wheel carries Debian's) looks for CA certificates where Debian keeps
// them; elsewhere (Fedora, Alpine, ...) they live at other paths. SSL_CERT_FILE / CURL_CA_BUNDLE win.
const char* ca_bundle() {
  for (const char* var : {"CURL_CA_BUNDLE", "SSL_CERT_FILE"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info && info->cainfo && is_regular(info->cainfo)) return nullptr;  // libcurl's own default works
  for (const char* path :
       {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}) {
    if (is_regular(path)) return path;
  }
  return nullptr;
}

Result<std::string> http_get(const std::string& url, const FetchOptions& options) {
  static std::once_flag init_once;
  static CURLcode init_rc = CURLE_OK;
  std::call_once(init_once, [] { init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_rc != CURLE_OK) return Status(ErrorCode::kIoError, url + ": cannot initialise libcurl");
  CURL* curl = curl_easy_init();
  if (!curl) return Status(ErrorCode::kIoError, url + ": cannot initialise libcurl");
  if (options.progress) options.progress("downloading " + url);
  std::string body;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts: other threads may be running
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  // Give up on a stalled transfer (under 1 KB/s for 60 s), not on a slow but moving one.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "tokenmill/0.1");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  if (const char* ca = ca_bundle()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  // No CURLOPT_PROXY: libcurl then takes the proxy from the environment as curl(1) does.
  CURLcode rc = curl_easy_perform(curl);
  long http_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_code);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (rc == CURLE_WRITE_ERROR && body.size() + CURL_MAX_WRITE_SIZE > kMaxDownload) {
      why = "larger than " + std::to_string(kMaxDownload >> 20) + " MB";
    }
    return Status(ErrorCode::kIoError, url + ": " + why);
  }
  if (http_code >= 400) return Status(ErrorCode::kIoError, url + ": HTTP " + std::to_string(http_code));
  if (options.progress) options.progress("downloaded " + std::to_string(body.size()) + " bytes from " + url);
  return body;
}

// ---- tar.gz ----

Result<std::string> gunzip(std::string_view gz, std::string_view source) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return Status(ErrorCode::kIoError, std::string(source) + ": zlib init failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = uInt(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (out.size() >= kMaxUnpacked) break;
    size_t old = out.size();
    out.resize(old + (size_t(1) << 20));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = uInt(out.size() - old);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(out.size() - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) return out;
  std::string why = rc == Z_OK || rc == Z_BUF_ERROR
                        ? (out.size() >= kMaxUnpacked ? "unpacks to more than 256 MB" : "truncated gzip data")
                        : std::string("not valid gzip data (") + (zs.msg ? zs.msg : "zlib error") + ")";
  return Status(ErrorCode::kParseError, std::string(source) + ": " + why);
}

std::string_view field(std::string_view header, size_t offset, size_t size) {
  std::string_view f = header.substr(offset, size);
  return f.substr(0, std::min(f.find('\0'), f.size()));
}

// Octal, space- or NUL-padded (the ustar numeric fields).
bool parse_octal(std::string_view f, uint64_t& value) {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && (f.back() == ' ' || f.back() == '\0')) f.remove_suffix(1);
  if (f.empty()) return false;
  auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value, 8);
  return ec == std::errc() && end == f.data() + f.size();
}

// pax extended header records: "<len> <key>=<value>\n"; returns the value of `path`, if any.
bool pax_path(std::string_view records, std::string& path) {
  while (!records.empty()) {
    size_t len = 0;
    auto [end, ec] = std::from_chars(records.data(), records.data() + records.size(), len);
    if (ec != std::errc() || len == 0 || len > records.size()) return false;
    std::string_view record = records.substr(0, len);
    records.remove_prefix(len);
    size_t space = record.find(' '), eq = record.find('=');
    if (space == std::string_view::npos || eq == std::string_view::npos || record.back() != '\n') return false;
    if (record.substr(space + 1, eq - space - 1) == "path") path = record.substr(eq + 1, record.size() - eq - 2);
  }
  return true;
}

Result<std::string> tar_member(std::string_view tar, std::string_view member, const std::string& source) {
  std::string next_name;  // from a pax 'x' or GNU 'L' entry, for the entry that follows
  size_t off = 0;
  while (off + 512 <= tar.size()) {
    std::string_view h = tar.substr(off, 512);
    if (h.find_first_not_of('\0') == std::string_view::npos) break;  // end-of-archive block
    const std::string at = source + ": tar entry at offset " + std::to_string(off);
    uint64_t checksum = 0, size = 0;
    if (!parse_octal(h.substr(148, 8), checksum)) return Status(ErrorCode::kParseError, at + ": bad checksum field");
    uint64_t sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? uint8_t(' ') : uint8_t(h[i]);
    if (sum != checksum) return Status(ErrorCode::kParseError, at + ": header checksum mismatch (not a tar archive?)");
    if (!parse_octal(h.substr(124, 12), size)) return Status(ErrorCode::kParseError, at + ": bad size field");
    const size_t data = off + 512;
    if (size > tar.size() - data)
      return Status(ErrorCode::kParseError, at + ": truncated (entry of " + std::to_string(size) + " bytes)");
    std::string_view contents = tar.substr(data, size);
    const char type = h[156];
    std::string name;
    if (!next_name.empty()) {
      name = std::move(next_name);
      next_name.clear();
    } else {
      name = std::string(field(h, 0, 100));
      std::string_view prefix = field(h, 345, 155);
      if (h.substr(257, 5) == "ustar" && !prefix.empty()) name = std::string(prefix) + "/" + name;
    }
    if (type == 'x') {
      if (!pax_path(contents, next_name)) return Status(ErrorCode::kParseError, at + ": bad pax header");
    } else if (type == 'L') {
      next_name = std::string(contents.substr(0, std::min(contents.find('\0'), contents.size())));
    } else if ((type == '0' || type == '\0') && name == member) {
      return std::string(contents);
    }
    off = data + (size + 511) / 512 * 512;
  }
  return Status(ErrorCode::kNotFound, source + ": no " + std::string(member) + " in the archive");
}

std::mutex& fetch_mutex() {
  static std::mutex m;
  return m;
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
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  return ((ec ? fs::path("/tmp") : tmp) / "tokenmill").string();
}

bool offline_from_environment() {
  const char* v = std::getenv("TOKENMILL_OFFLINE");
  return v && *v && std::string_view(v) != "0";
}

Result<std::string> npm_bpe_ranks_to_tiktoken(std::string_view bpe_ranks, std::string_view source_name) try {
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
} catch (...) {
  return util::exception_status([&] { return "converting " + std::string(source_name); });
}

Result<std::string> read_tgz_member(std::string_view tgz, std::string_view member, std::string_view source_name) try {
  auto tar = gunzip(tgz, source_name);
  if (!tar.ok()) return tar.status();
  return tar_member(*tar, member, std::string(source_name));
} catch (...) {
  return util::exception_status([&] { return "reading " + std::string(member) + " from " + std::string(source_name); });
}

Status fetch_rank_file(std::string_view name, const FetchOptions& options) try {
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
  if (Status s = check_not_special(target); !s.ok()) return s;
  const bool offline = options.offline || offline_from_environment();
  const std::string openai_url =
      (options.openai_url_prefix.empty() ? std::string(kOpenAiUrlPrefix) : options.openai_url_prefix) +
      std::string(name) + ".tiktoken";
  auto say = [&](const std::string& msg) {
    if (options.progress) options.progress(msg);
  };
  // Threads of this process take turns, so the second finds the first one's verified file. Other
  // processes may publish the same file meanwhile: each renames its own complete, verified temporary
  // file into place, and the bytes are the same whichever rename lands last.
  std::lock_guard<std::mutex> lock(fetch_mutex());

  if (options.from.empty() && is_regular(target)) {
    auto existing = read_file(target);
    if (existing.ok() && util::sha256_hex(*existing) == info->sha256) {
      say(target.string() + " is present and verified");
      return Status();
    }
  }

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
  const std::string member = "package/encoders/" + std::string(info->npm_json);
  auto from_tgz_bytes = [&](std::string_view tgz, const std::string& source) -> Status {
    auto json = read_tgz_member(tgz, member, source);
    if (!json.ok()) return json.status();
    auto text = tiktoken_from_npm_json(*json, source + ":" + member);
    if (!text.ok()) return text.status();
    return accept(*text, source + ":" + member);
  };

  if (!options.from.empty()) {
    const fs::path from = options.from;
    std::error_code dir_ec;
    if (fs::is_directory(from, dir_ec)) {
      for (const fs::path& json : {from / "encoders" / std::string(info->npm_json),
                                   from / "package" / "encoders" / std::string(info->npm_json)}) {
        if (!is_regular(json)) continue;
        auto bytes = read_file(json);
        if (!bytes.ok()) return bytes.status();
        auto text = tiktoken_from_npm_json(*bytes, json.string());
        if (!text.ok()) return text.status();
        return accept(*text, json.string());
      }
      return Status(ErrorCode::kNotFound, from.string() + ": no encoders/" + std::string(info->npm_json));
    }
    auto contents = read_file(from);
    if (!contents.ok()) return contents.status();
    if (from.extension() == ".tgz") return from_tgz_bytes(*contents, from.string());
    return accept(*contents, from.string());
  }

  std::vector<std::string> tried;
  // 1. The npm package: one download serves all four files, so it stays in the cache for the others.
  const fs::path tgz_path = cache / std::string(kNpmTarballName);
  std::string tgz;
  if (is_regular(tgz_path)) {
    auto cached = read_file(tgz_path);
    if (cached.ok() && util::sha256_hex(*cached) == kNpmTarballSha256) tgz = std::move(cached).value();
  }
  const std::string npm_url = options.npm_tarball_url.empty() ? std::string(kNpmTarballUrl) : options.npm_tarball_url;
  if (tgz.empty() && !offline) {
    auto body = http_get(npm_url, options);
    if (!body.ok()) {
      tried.push_back(body.error());
    } else if (std::string digest = util::sha256_hex(*body); digest != kNpmTarballSha256) {
      tried.push_back(npm_url + ": sha256 " + digest + " is not the pinned " + std::string(kNpmTarballSha256));
    } else {
      tgz = std::move(body).value();
      // Keeping the tarball is an optimisation for the other files; failing to is not an error.
      (void)write_file_atomically(tgz_path.string(), tgz);
    }
  }
  if (!tgz.empty()) {
    Status s = from_tgz_bytes(tgz, tgz_path.string());
    if (s.ok()) return s;
    tried.push_back(s.message());
  }
  if (offline) {
    return Status(ErrorCode::kNotFound, target.string() +
                                            " is missing and offline mode (TOKENMILL_OFFLINE) forbids "
                                            "downloading it: put a copy of " +
                                            openai_url + " (sha256 " + std::string(info->sha256) + ") at " +
                                            target.string());
  }
  // 2. OpenAI's URL, as tiktoken downloads it.
  auto body = http_get(openai_url, options);
  if (body.ok()) {
    Status s = accept(*body, openai_url);
    if (s.ok()) return s;
    tried.push_back(s.message());
  } else {
    tried.push_back(body.error());
  }
  std::string msg = "could not fetch " + std::string(name) + ".tiktoken; tried:";
  for (const auto& t : tried) msg += "\n  " + t;
  msg += "\nWithout network, put a copy of " + openai_url + " at " + target.string() +
         ", or fetch from a local copy (FetchOptions::from)";
  return Status(ErrorCode::kIoError, msg);
} catch (...) {
  return util::exception_status([&] { return "fetching the rank file " + std::string(name); });
}

Result<std::string> rank_file_path(std::string_view name, const FetchOptions& options, bool fetch) try {
  const fs::path cache = options.cache_dir.empty() ? fs::path(default_cache_dir()) : fs::path(options.cache_dir);
  fs::path target = cache / (std::string(name) + ".tiktoken");
  if (Status s = check_not_special(target); !s.ok()) return s;
  if (is_regular(target)) return target.string();
  if (!fetch) {
    return Status(ErrorCode::kNotFound, target.string() + " is missing (and fetching is off): put a verified copy of " +
                                            std::string(name) + ".tiktoken there, or fetch it first");
  }
  Status s = fetch_rank_file(name, options);
  if (!s.ok()) return s;
  return target.string();
} catch (...) {
  return util::exception_status([&] { return "finding the rank file " + std::string(name); });
}

}  // namespace tokenmill
