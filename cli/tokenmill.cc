// tokenmill command-line tool: a thin layer over the library. Library errors become a message on stderr
// and exit status 1; usage errors exit with CLI11's status (2 for a bad flag).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tokenmill/encoding.h"
#include "tokenmill/fetch.h"
#include "tokenmill/train.h"
#include "tokenizer_command.h"
#include "train_command.h"

namespace {

using tokenmill::Rank;

[[noreturn]] void die(const std::string& message) {
  std::cerr << "tokenmill: " << message << "\n";
  std::exit(1);
}

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::string data;
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) data.append(buf, n);
    if (std::ferror(stdin)) die("error reading standard input");
    return data;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) die(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) die(path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) die(path + ": read error");
  return std::move(ss).str();
}

// Output goes to stdout, or to a file written whole-or-not-at-all (temp file + rename), so an interrupted
// run never leaves a truncated file that looks complete.
void write_output(const std::string& path, std::string_view data) {
  if (path.empty() || path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0) {
      die("error writing standard output");
    }
    return;
  }
  tokenmill::Status s = tokenmill::write_file_atomically(path, data);
  if (!s.ok()) die(s.message());
}

// --model FILE (a trained tokenmill model) takes precedence over -e NAME.
std::string g_model_path;

tokenmill::Encoding load_encoding(const std::string& name) {
  if (!g_model_path.empty()) {
    auto model = tokenmill::BpeModel::load_model_file(g_model_path);
    if (!model.ok()) die(model.error());
    auto enc = model->encoding(g_model_path);
    if (!enc.ok()) die(g_model_path + ": " + enc.error());
    return std::move(enc).value();
  }
  auto enc = tokenmill::Encoding::load(name);
  if (!enc.ok()) die(enc.error());
  return std::move(enc).value();
}

// "all", "none", or a comma-separated list of special tokens.
tokenmill::SpecialSet parse_special_set(const std::vector<std::string>& args, bool default_all) {
  if (args.empty()) return default_all ? tokenmill::SpecialSet::all() : tokenmill::SpecialSet::none();
  tokenmill::SpecialSet set;
  for (const auto& arg : args) {
    if (arg == "all") return tokenmill::SpecialSet::all();
    if (arg == "none") continue;
    std::stringstream ss(arg);
    std::string token;
    while (std::getline(ss, token, ',')) {
      if (!token.empty()) set.tokens.push_back(token);
    }
  }
  return set;
}

std::string ids_to_text(const std::vector<Rank>& ids) {
  std::string out;
  out.reserve(ids.size() * 6 + 1);
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    int n = std::snprintf(buf, sizeof buf, "%u", ids[i]);
    out.append(buf, size_t(n));
  }
  out += '\n';
  return out;
}

std::string ids_to_binary(const std::vector<Rank>& ids) {
  std::string out(ids.size() * 4, '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    Rank v = ids[i];
    out[4 * i] = char(v & 0xFF);
    out[4 * i + 1] = char((v >> 8) & 0xFF);
    out[4 * i + 2] = char((v >> 16) & 0xFF);
    out[4 * i + 3] = char(v >> 24);
  }
  return out;
}

std::vector<Rank> parse_ids(const std::string& data, bool binary, const std::string& source) {
  std::vector<Rank> ids;
  if (binary) {
    if (data.size() % 4 != 0) die(source + ": binary ids must be a multiple of 4 bytes, got " + std::to_string(data.size()));
    ids.resize(data.size() / 4);
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = Rank(uint8_t(data[4 * i])) | (Rank(uint8_t(data[4 * i + 1])) << 8) |
               (Rank(uint8_t(data[4 * i + 2])) << 16) | (Rank(uint8_t(data[4 * i + 3])) << 24);
    }
    return ids;
  }
  size_t i = 0;
  while (i < data.size()) {
    char c = data[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ',' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    size_t start = i;
    uint64_t v = 0;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9' && v <= UINT32_MAX) v = v * 10 + uint64_t(data[i++] - '0');
    if (i == start || v > UINT32_MAX || (i < data.size() && !std::isspace(uint8_t(data[i])) && data[i] != ',' && data[i] != ']')) {
      size_t line = 1 + size_t(std::count(data.begin(), data.begin() + long(start), '\n'));
      die(source + ":" + std::to_string(line) + ": not a token id: '" + data.substr(start, 20) + "'");
    }
    ids.push_back(Rank(v));
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tokenmill: tiktoken-exact BPE encoding, decoding and counting"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tokenmill 0.1.0 (Unicode " + std::string(tokenmill::unicode_version()) + ")");

  std::string encoding = "cl100k_base";
  std::string input = "-";
  std::string output;
  bool binary = false;
  std::vector<std::string> allowed, disallowed;
  bool ordinary = false;
  bool raw_bytes = false;

  auto* encode = app.add_subcommand("encode", "Encode text to token ids (tiktoken's Encoding.encode)");
  encode->add_option("-e,--encoding", encoding, "Encoding name")->capture_default_str();
  encode->add_option("--model", g_model_path, "A tokenmill model file (from `tokenmill train`) instead of -e");
  encode->add_option("input", input, "Input file, or - for stdin")->capture_default_str();
  encode->add_option("-o,--output", output, "Write ids here (atomically) instead of stdout");
  encode->add_flag("--binary", binary, "Write ids as uint32 little-endian instead of text");
  encode->add_option("--allowed-special", allowed,
                     "Special tokens to encode as such: 'all' or a comma-separated list (default: none)");
  encode->add_option("--disallowed-special", disallowed,
                     "Special-token text that is an error: 'all' (default: every special not allowed), 'none', or a list");
  encode->add_flag("--ordinary", ordinary, "Ignore special tokens entirely (encode_ordinary)");

  auto* decode = app.add_subcommand("decode", "Decode token ids to text");
  decode->add_option("-e,--encoding", encoding, "Encoding name")->capture_default_str();
  decode->add_option("--model", g_model_path, "A tokenmill model file (from `tokenmill train`) instead of -e");
  decode->add_option("input", input, "File of ids (whitespace or comma separated), or - for stdin")->capture_default_str();
  decode->add_option("-o,--output", output, "Write text here (atomically) instead of stdout");
  decode->add_flag("--binary", binary, "Read ids as uint32 little-endian");
  decode->add_flag("--bytes", raw_bytes, "Write the raw bytes (no U+FFFD replacement of invalid UTF-8)");

  std::vector<std::string> count_inputs;
  auto* count = app.add_subcommand("count", "Count tokens (encode_ordinary, or --allowed-special)");
  count->add_option("-e,--encoding", encoding, "Encoding name")->capture_default_str();
  count->add_option("--model", g_model_path, "A tokenmill model file (from `tokenmill train`) instead of -e");
  count->add_option("inputs", count_inputs, "Input files, or - for stdin (default)");
  count->add_option("--allowed-special", allowed, "Special tokens to count as one token: 'all' or a list");
  bool show_speed = false;
  count->add_flag("--speed", show_speed, "Also print bytes, CPU seconds and MB per CPU-second of the counting (stderr)");
  tokenmill::cli::add_count_chunks_options(*count);

  std::vector<std::string> fetch_names;
  std::string fetch_from, cache_dir;
  auto* fetch = app.add_subcommand("fetch", "Download rank files into the cache and verify tiktoken's sha256");
  fetch->add_option("encodings", fetch_names, "Encoding names, or 'all'")->required();
  fetch->add_option("--from", fetch_from, "Local source: a .tiktoken file, the npm tiktoken .tgz, or its folder");
  fetch->add_option("--cache-dir", cache_dir, "Cache folder (default: $TOKENMILL_CACHE_DIR or ~/.cache/tokenmill)");

  auto* list = app.add_subcommand("encodings", "List the built-in encodings");
  auto* train = tokenmill::cli::add_train_command(app);
  tokenmill::cli::add_tokenizer_options(*encode, *decode, *count);

  CLI11_PARSE(app, argc, argv);

  if ((*encode || *decode || *count) && tokenmill::cli::tokenizer_selected()) {
    const std::string command = *encode ? "encode" : *decode ? "decode" : "count";
    return tokenmill::cli::run_tokenizer_command(command, *count ? count_inputs : std::vector<std::string>{input},
                                                 output, binary, {read_input, write_output});
  }

  if (*encode) {
    auto enc = load_encoding(encoding);
    std::string text = read_input(input);
    std::vector<Rank> ids;
    if (ordinary) {
      ids = enc.encode_ordinary(text);
    } else {
      auto result = enc.encode(text, parse_special_set(allowed, false), parse_special_set(disallowed, true));
      if (!result.ok()) die((input == "-" ? std::string("stdin") : input) + ": " + result.error());
      ids = std::move(result).value();
    }
    write_output(output, binary ? ids_to_binary(ids) : ids_to_text(ids));
  } else if (*decode) {
    auto enc = load_encoding(encoding);
    std::vector<Rank> ids = parse_ids(read_input(input), binary, input == "-" ? "stdin" : input);
    auto bytes = raw_bytes ? enc.decode_bytes(ids) : enc.decode(ids);
    if (!bytes.ok()) die(bytes.error());
    write_output(output, *bytes);
  } else if (*count) {
    if (tokenmill::cli::count_chunks_selected()) return tokenmill::cli::run_count_chunks(count_inputs);
    auto enc = load_encoding(encoding);
    if (count_inputs.empty()) count_inputs.push_back("-");
    size_t total = 0;
    for (const auto& path : count_inputs) {
      std::string text = read_input(path);
      timespec t0, t1;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
      size_t n;
      if (allowed.empty()) {
        n = enc.count(text);
      } else {
        auto r = enc.encode(text, parse_special_set(allowed, false), tokenmill::SpecialSet::none());
        if (!r.ok()) die(path + ": " + r.error());
        n = r->size();
      }
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
      if (show_speed) {
        double secs = double(t1.tv_sec - t0.tv_sec) + 1e-9 * double(t1.tv_nsec - t0.tv_nsec);
        std::fprintf(stderr, "%s: %zu bytes, %zu tokens, %.3f CPU-s, %.1f MB/CPU-s (%s)\n", path.c_str(), text.size(), n,
                     secs, secs > 0 ? double(text.size()) / 1e6 / secs : 0.0, encoding.c_str());
      }
      total += n;
      if (count_inputs.size() > 1) std::printf("%zu\t%s\n", n, path.c_str());
    }
    std::printf(count_inputs.size() > 1 ? "%zu\ttotal\n" : "%zu\n", total);
  } else if (*fetch) {
    tokenmill::FetchOptions options;
    options.cache_dir = cache_dir;
    options.from = fetch_from;
    options.verbose = true;
    std::vector<std::string> files;
    for (const auto& name : fetch_names) {
      if (name == "all") {
        for (const auto& f : tokenmill::known_rank_files()) files.emplace_back(f.name);
        continue;
      }
      // Encoding names map to their rank file (gpt2 -> r50k_base, o200k_harmony -> o200k_base, ...).
      std::string file = name;
      if (name == "gpt2") file = "r50k_base";
      else if (name == "p50k_edit") file = "p50k_base";
      else if (name == "o200k_harmony") file = "o200k_base";
      files.push_back(file);
    }
    for (const auto& file : files) {
      tokenmill::Status s = tokenmill::fetch_rank_file(file, options);
      if (!s.ok()) die(s.message());
    }
  } else if (*train) {
    return tokenmill::cli::run_train_command();
  } else if (*list) {
    for (const auto& name : tokenmill::Encoding::builtin_names()) std::printf("%s\n", name.c_str());
  }
  return 0;
}
