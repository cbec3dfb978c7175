// `tokenmill tokenize`: inputs (text, JSON Lines, .gz / .zst, globs) -> megatron / nanogpt / llmc shards
// and a manifest. Progress on stderr (a rewritten line on a terminal, a line every few seconds otherwise),
// then a summary; --quiet silences both. Rerunning the same command after an interruption resumes.
#include "tokenize_command.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tokenmill/dataset.h"
#include "tokenmill/train.h"

namespace tokenmill::cli {

namespace {

struct TokenizeArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string format = "megatron";
  std::string input_format = "auto";
  std::string field = "text";
  std::string encoding = "cl100k_base";
  std::string model;
  std::string tokenizer;
  bool add_special_tokens = false;
  std::string separator_token;
  std::string separator = "eos";
  int64_t separator_id = -1;
  uint64_t shard_tokens = 0;
  unsigned threads = 1;
  size_t batch_bytes = size_t(1) << 20;
  bool skip_bad = false;
  bool no_resume = false;
  bool quiet = false;
};

TokenizeArgs& args() {
  static TokenizeArgs a;
  return a;
}

// Patterns with * ? [ are expanded here too (a quoted glob, or a shell that did not expand it); each
// pattern's matches in sorted order, so the document order is the same on every machine.
std::vector<std::string> expand(const std::vector<std::string>& patterns, std::string* error) {
  std::vector<std::string> out;
  for (const auto& p : patterns) {
    if (p == "-" || p.find_first_of("*?[") == std::string::npos) {
      out.push_back(p);
      continue;
    }
    glob_t g{};
    int rc = glob(p.c_str(), 0, nullptr, &g);
    if (rc != 0) {
      globfree(&g);
      *error = p + ": no file matches";
      return {};
    }
    std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
    globfree(&g);
    std::sort(matches.begin(), matches.end());
    out.insert(out.end(), matches.begin(), matches.end());
  }
  return out;
}

std::string eta(double seconds) {
  char buf[32];
  long s = long(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

CLI::App* add_tokenize_command(CLI::App& app) {
  TokenizeArgs& a = args();
  auto* cmd = app.add_subcommand("tokenize", "Tokenize corpora into megatron / nanogpt / llmc shards with a manifest");
  cmd->add_option("inputs", a.inputs, "Input files or globs (- = standard input); .gz and .zst are decompressed")
      ->required();
  cmd->add_option("-o,--output", a.output, "Output prefix: PREFIX.bin, PREFIX.idx, ..., PREFIX.manifest.json")
      ->required();
  cmd->add_option("-f,--format", a.format, "megatron, nanogpt or llmc")
      ->check(CLI::IsMember({"megatron", "nanogpt", "llmc"}));
  cmd->add_option("--input-format", a.input_format, "auto (by extension), lines, whole or jsonl")
      ->check(CLI::IsMember({"auto", "lines", "whole", "jsonl"}));
  cmd->add_option("--field", a.field, "JSON Lines: the string field holding the document");
  cmd->add_option("-e,--encoding", a.encoding, "A built-in encoding");
  cmd->add_option("--model", a.model, "A tokenmill model file (from `tokenmill train`) instead of -e");
  // -t is --threads here (as it always was for tokenize); the tokenizer.json option is long-only.
  cmd->add_option("--tokenizer", a.tokenizer, "A Hugging Face tokenizer.json model instead of -e");
  cmd->add_flag("--add-special-tokens", a.add_special_tokens,
                "tokenizer.json: apply its post-processor template to each document (default off)");
  cmd->add_option("--separator-token", a.separator_token, "Separator by token name (e.g. <|end_of_text|>)");
  cmd->add_option("--separator", a.separator, "eos (after each document), bos (before), none")
      ->check(CLI::IsMember({"eos", "bos", "none"}));
  cmd->add_option("--separator-id", a.separator_id, "Separator token id (default: <|endoftext|>)");
  cmd->add_option("--shard-tokens", a.shard_tokens,
                  "Tokens per shard (0: one shard; llmc: default 100000000, documents cut at the boundary)");
  cmd->add_option("-t,--threads", a.threads, "Encoding threads (0 = one per core); output identical for any");
  cmd->add_option("--batch-bytes", a.batch_bytes, "Text per batch handed to an encoding thread (default 1 MiB)");
  cmd->add_flag("--skip-bad", a.skip_bad, "Skip (and count) malformed JSON lines instead of failing");
  cmd->add_flag("--no-resume", a.no_resume, "Start over even if a manifest of an unfinished run is there");
  cmd->add_flag("-q,--quiet", a.quiet, "No progress and no summary");
  return cmd;
}

int run_tokenize_command() {
  TokenizeArgs& a = args();
  auto fail = [](const std::string& m) {
    std::cerr << "tokenmill: " << m << "\n";
    return 1;
  };
  std::string error;
  std::vector<std::string> inputs = expand(a.inputs, &error);
  if (!error.empty()) return fail(error);

  std::optional<DatasetTokenizer> tokenizer;
  std::optional<Encoding> enc;
  std::string tokenizer_name;
  if (!a.tokenizer.empty()) {
    auto t = DatasetTokenizer::from_tokenizer_file(a.tokenizer, a.add_special_tokens);
    if (!t.ok()) return fail(t.error());
    tokenizer = std::move(t).value();
  } else if (!a.model.empty()) {
    auto model = BpeModel::load_model_file(a.model);
    if (!model.ok()) return fail(model.error());
    auto e = model->encoding(a.model);
    if (!e.ok()) return fail(a.model + ": " + e.error());
    enc = std::move(e).value();
    tokenizer_name = a.model;
  } else {
    auto e = Encoding::load(a.encoding);
    if (!e.ok()) return fail(e.error());
    enc = std::move(e).value();
    tokenizer_name = a.encoding;
  }

  TokenizeOptions opt;
  opt.output_prefix = a.output;
  opt.format = a.format == "nanogpt" ? ShardFormat::kNanogpt
               : a.format == "llmc"  ? ShardFormat::kLlmc
                                     : ShardFormat::kMegatron;
  static const std::map<std::string, DocumentFormat> kInput = {{"auto", DocumentFormat::kAuto},
                                                               {"lines", DocumentFormat::kLines},
                                                               {"whole", DocumentFormat::kWhole},
                                                               {"jsonl", DocumentFormat::kJsonl}};
  opt.input_format = kInput.at(a.input_format);
  opt.jsonl_field = a.field;
  opt.separator = a.separator == "bos" ? Separator::kBos : a.separator == "none" ? Separator::kNone : Separator::kEos;
  if (a.separator_id >= 0) opt.separator_id = Rank(a.separator_id);
  opt.separator_token = a.separator_token;
  opt.add_special_tokens = a.add_special_tokens;
  opt.shard_tokens = a.shard_tokens;
  opt.threads = a.threads;
  opt.batch_bytes = std::max<size_t>(1, a.batch_bytes);
  opt.skip_bad = a.skip_bad;
  opt.resume = !a.no_resume;

  const bool tty = isatty(fileno(stderr));
  bool drew = false;
  if (!a.quiet) {
    opt.progress_interval = tty ? 0.2 : 5.0;
    opt.on_progress = [tty, &drew](const TokenizeProgress& p) {
      const double mb = double(p.input_bytes_read) / 1e6, s = std::max(p.seconds, 1e-9);
      std::string where;
      if (p.input_bytes > 0) {
        const double frac = std::min(1.0, double(p.input_bytes_read) / double(p.input_bytes));
        const double left = frac > 0 ? p.seconds * (1 - frac) / frac : 0;
        if (tty) {
          const int width = 24, full = int(frac * width);
          where = "[" + std::string(size_t(full), '#') + std::string(size_t(width - full), '.') + "] ";
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%5.1f%% ETA %s ", 100 * frac, eta(left).c_str());
        where += buf;
      }
      std::fprintf(stderr, "%stokenize: %s%.1f MB (%.1f MB/s), %llu documents, %llu tokens (%.2fM tokens/s)%s",
                   tty ? "\r" : "", where.c_str(), mb, mb / s, static_cast<unsigned long long>(p.documents),
                   static_cast<unsigned long long>(p.tokens), double(p.tokens) / s / 1e6, tty ? "\033[K" : "\n");
      std::fflush(stderr);
      drew = tty;
    };
  }
  auto summary = tokenizer ? tokenize_files(std::move(*tokenizer), inputs, opt)
                           : tokenize_files(*enc, tokenizer_name, inputs, opt);
  if (drew) std::fprintf(stderr, "\n");
  if (!summary.ok()) return fail(summary.error());
  if (!a.quiet) {
    const TokenizeSummary& s = *summary;
    if (s.already_complete) {
      std::fprintf(stderr, "tokenize: %s is already complete (manifest %s.manifest.json); nothing to do\n",
                   a.output.c_str(), a.output.c_str());
    } else {
      std::fprintf(stderr,
                   "tokenize: %llu documents, %llu tokens in %llu shard(s) (%s), %.1f MB read in %.2f s; "
                   "%llu skipped, %llu repaired (invalid UTF-8), %llu kept from an earlier run\n",
                   static_cast<unsigned long long>(s.documents), static_cast<unsigned long long>(s.tokens),
                   static_cast<unsigned long long>(s.shards), a.format.c_str(), double(s.input_bytes_read) / 1e6,
                   s.seconds, static_cast<unsigned long long>(s.skipped), static_cast<unsigned long long>(s.repaired),
                   static_cast<unsigned long long>(s.resumed_documents));
    }
  }
  return 0;
}

}  // namespace tokenmill::cli
