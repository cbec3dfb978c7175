// tokenmill command-line tool: a thin layer over the library. Library errors become a message on stderr
// and exit status 1; usage errors exit with CLI11's status (2 for a bad flag).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "speed.h"
#include "tokenize_command.h"
#include "tokenizer_command.h"
#include "tokenmill/encoding.h"
#include "tokenmill/fetch.h"
#include "tokenmill/file_io.h"
#include "tokenmill/id_format.h"
#include "tokenmill/tekken.h"
#include "tokenmill/train.h"
#include "train_command.h"
#include "util/atomic_file.h"  // write_file_atomically

namespace {

using tokenmill::Rank;

[[noreturn]] void die(const std::string& message) {
  std::cerr << "tokenmill: " << message << "\n";
  std::exit(1);
}

// The whole input; any read error or allocation failure names the file (never a silently short text).
std::string read_input(const std::string& path) {
  auto data = tokenmill::read_file(path, tokenmill::kNoSizeLimit, "input");
  if (!data.ok()) die(data.error());
  return std::move(data).value();
}

// Everything printed to stdout goes through here: a full disk or a closed stdout is an error, not rc 0.
void write_stdout(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0) {
    die(std::string("error writing standard output: ") + std::strerror(errno));
  }
}

// Output goes to stdout, or to a file written whole-or-not-at-all (temp file + rename), so an interrupted
// run never leaves a truncated file that looks complete.
void write_output(const std::string& path, std::string_view data) {
  if (path.empty() || path == "-") {
    write_stdout(data);
    return;
  }
  tokenmill::Status s = tokenmill::write_file_atomically(path, data);
  if (!s.ok()) die(s.message());
}

// --model FILE (a trained tokenmill model) or --tekken FILE (Mistral's tekken.json) take precedence over -e NAME.
std::string g_model_path;
std::string g_tekken_path;

tokenmill::Encoding load_encoding(const std::string& name) {
  if (!g_tekken_path.empty()) {
    auto tekken = tokenmill::Tekken::from_file(g_tekken_path);
    if (!tekken.ok()) die(tekken.error());
    return tekken->encoding();
  }
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

// --allowed-special names must be special tokens of the encoding: a typo would otherwise encode the
// token's text as ordinary text without a word.
void check_allowed_special(const tokenmill::Encoding& enc, const tokenmill::SpecialSet& set) {
  if (set.all_tokens) return;
  for (const auto& t : set.tokens) {
    const auto& specials = enc.special_tokens();
    if (std::any_of(specials.begin(), specials.end(), [&](const auto& s) { return s.first == t; })) continue;
    std::string known;
    for (const auto& [name, id] : enc.special_tokens()) known += (known.empty() ? "" : ", ") + name;
    die("--allowed-special: '" + t + "' is not a special token of " + enc.name() +
        " (its special tokens: " + (known.empty() ? "none" : known) + ")");
  }
}

}  // namespace

static int run(int argc, char** argv) {
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
  encode->add_option("--tekken", g_tekken_path,
                     "A Mistral tekken.json instead of -e: mistral-common's ids (specials are never read from text; "
                     "decode writes their names)");
  encode->add_option("input", input, "Input file, or - for stdin")->capture_default_str();
  encode->add_option("-o,--output", output, "Write ids here (atomically) instead of stdout");
  encode->add_flag("--binary", binary, "Write ids as uint32 little-endian instead of text");
  encode
      ->add_option("--allowed-special", allowed,
                   "Special tokens to encode as such: 'all' or a comma-separated list (default: none)")
      ->allow_extra_args(false);
  encode
      ->add_option("--disallowed-special", disallowed,
                   "Special-token text that is an error: 'all' (default: every special not allowed), 'none', or a list")
      ->allow_extra_args(false);
  encode->add_flag("--ordinary", ordinary, "Ignore special tokens entirely (encode_ordinary)");

  auto* decode = app.add_subcommand("decode", "Decode token ids to text");
  decode->add_option("-e,--encoding", encoding, "Encoding name")->capture_default_str();
  decode->add_option("--model", g_model_path, "A tokenmill model file (from `tokenmill train`) instead of -e");
  decode->add_option("--tekken", g_tekken_path,
                     "A Mistral tekken.json instead of -e: mistral-common's ids (specials are never read from text; "
                     "decode writes their names)");
  decode->add_option("input", input, "File of ids (whitespace or comma separated), or - for stdin")->capture_default_str();
  decode->add_option("-o,--output", output, "Write text here (atomically) instead of stdout");
  decode->add_flag("--binary", binary, "Read ids as uint32 little-endian");
  decode->add_flag("--bytes", raw_bytes, "Write the raw bytes (no U+FFFD replacement of invalid UTF-8)");

  std::vector<std::string> count_inputs;
  auto* count = app.add_subcommand("count", "Count tokens (encode_ordinary, or --allowed-special)");
  count->add_option("-e,--encoding", encoding, "Encoding name")->capture_default_str();
  count->add_option("--model", g_model_path, "A tokenmill model file (from `tokenmill train`) instead of -e");
  count->add_option("--tekken", g_tekken_path,
                    "A Mistral tekken.json instead of -e: mistral-common's ids (specials are never read from text; "
                    "decode writes their names)");
  count->add_option("inputs", count_inputs, "Input files, or - for stdin (default)");
  count->add_option("--allowed-special", allowed, "Special tokens to count as one token: 'all' or a list")
      ->allow_extra_args(false);
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
  auto* tokenize = tokenmill::cli::add_tokenize_command(app);
  tokenmill::cli::add_tokenizer_options(*encode, *decode, *count);

  CLI11_PARSE(app, argc, argv);

  if ((*encode || *decode || *count) && tokenmill::cli::tokenizer_selected()) {
    const std::string command = *encode ? "encode" : *decode ? "decode" : "count";
    return tokenmill::cli::run_tokenizer_command(command, *count ? count_inputs : std::vector<std::string>{input},
                                                 output, binary, show_speed, {read_input, write_output});
  }

  if (*encode) {
    if (!g_tekken_path.empty()) ordinary = true;  // mistral-common never reads special tokens from text
    auto enc = load_encoding(encoding);
    std::string text = read_input(input);
    std::vector<Rank> ids;
    if (ordinary) {
      auto result = enc.encode_ordinary(text);
      if (!result.ok()) die((input == "-" ? std::string("stdin") : input) + ": " + result.error());
      ids = std::move(result).value();
    } else {
      const tokenmill::SpecialSet allowed_set = parse_special_set(allowed, false);
      check_allowed_special(enc, allowed_set);
      auto result = enc.encode(text, allowed_set, parse_special_set(disallowed, true));
      if (!result.ok()) die((input == "-" ? std::string("stdin") : input) + ": " + result.error());
      ids = std::move(result).value();
    }
    write_output(output, binary ? tokenmill::ids_to_binary(ids) : tokenmill::ids_to_text(ids));
  } else if (*decode) {
    auto enc = load_encoding(encoding);
    const std::string data = read_input(input);
    const std::string source = input == "-" ? "stdin" : input;
    auto parsed = binary ? tokenmill::parse_ids_binary(data, source) : tokenmill::parse_ids_text(data, source);
    if (!parsed.ok()) die(parsed.error());
    const std::vector<Rank>& ids = *parsed;
    auto bytes = raw_bytes ? enc.decode_bytes(ids) : enc.decode(ids);
    if (!bytes.ok()) die(bytes.error());
    write_output(output, *bytes);
  } else if (*count) {
    if (tokenmill::cli::count_chunks_selected()) return tokenmill::cli::run_count_chunks(count_inputs);
    auto enc = load_encoding(encoding);
    if (count_inputs.empty()) count_inputs.push_back("-");
    if (!allowed.empty()) check_allowed_special(enc, parse_special_set(allowed, false));
    size_t total = 0;
    std::string report;
    for (const auto& path : count_inputs) {
      std::string text = read_input(path);
      const double t0 = tokenmill::cli::process_cpu_seconds();
      size_t n;
      if (allowed.empty()) {
        auto r = enc.count(text);
        if (!r.ok()) die(path + ": " + r.error());
        n = *r;
      } else {
        auto r = enc.encode(text, parse_special_set(allowed, false), tokenmill::SpecialSet::none());
        if (!r.ok()) die(path + ": " + r.error());
        n = r->size();
      }
      if (show_speed)
        tokenmill::cli::print_speed(path, text.size(), n, tokenmill::cli::process_cpu_seconds() - t0, encoding);
      total += n;
      if (count_inputs.size() > 1) report += std::to_string(n) + "\t" + path + "\n";
    }
    report += std::to_string(total) + (count_inputs.size() > 1 ? "\ttotal\n" : "\n");
    write_stdout(report);
  } else if (*fetch) {
    tokenmill::FetchOptions options;
    options.cache_dir = cache_dir;
    options.from = fetch_from;
    options.progress = [](std::string_view line) { std::cerr << "tokenmill fetch: " << line << "\n"; };
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
  } else if (*tokenize) {
    return tokenmill::cli::run_tokenize_command();
  } else if (*list) {
    std::string names;
    for (const auto& name : tokenmill::Encoding::builtin_names()) names += name + "\n";
    write_stdout(names);
  }
  return 0;
}

// The library returns errors as values; functions that return a plain string or vector (the ids as text,
// decoded bytes) report exhausted memory as std::bad_alloc, as the standard library does. Either way the
// command ends with a message and status 1, never an abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::cerr << "tokenmill: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << "tokenmill: " << e.what() << "\n";
  }
  return 1;
}
