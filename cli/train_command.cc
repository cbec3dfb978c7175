// `tokenmill train`: count chunks from files (or stdin), run the merge loop, write the model atomically.
// Progress goes to stderr (bytes read and MB/s while counting, merges and merges/s after), then a
// summary; --quiet silences both.
#include "train_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "tokenmill/hf_json.h"
#include "tokenmill/train.h"

namespace tokenmill::cli {

namespace {

struct TrainArgs {
  uint64_t vocab_size = 0;
  std::string pattern = "gpt4";
  std::string input_format = "lines";
  std::string field = "text";
  uint64_t doc_cap = 0;
  uint64_t max_chars = 0;
  std::vector<std::string> specials;
  std::string output;
  std::string tiktoken_output;
  std::string hf_json_output;
  bool quiet = false;
  std::vector<std::string> inputs;
};

TrainArgs& args() {
  static TrainArgs a;
  return a;
}

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "\ntokenmill train: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace

CLI::App* add_train_command(CLI::App& app) {
  TrainArgs& a = args();
  auto* cmd = app.add_subcommand("train", "Train a byte-level BPE vocabulary (exactly rustbpe 0.1.0's merges)");
  cmd->add_option("--vocab-size", a.vocab_size, "Ids after training: 256 bytes + merges (256..2^31)")->required();
  cmd->add_option("--pattern", a.pattern, "Split pattern: gpt4 (rustbpe's default), nanochat, or a regex")
      ->capture_default_str();
  cmd->add_option("--input-format", a.input_format,
                  "lines (each line is a document, as Python's open() yields), whole (a file is one document), "
                  "jsonl (one JSON object per line)")
      ->check(CLI::IsMember({"lines", "whole", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--field", a.field, "JSON Lines: the string field holding the document")->capture_default_str();
  cmd->add_option("--doc-cap", a.doc_cap, "Truncate each document to this many characters (0 = no cap)");
  cmd->add_option("--max-chars", a.max_chars, "Stop after the document that brings the total past this (0 = all)");
  cmd->add_option("--special", a.specials, "Special tokens, appended after the merges in this order");
  cmd->add_option("-o,--output", a.output, "Model file (ranks + pattern + special tokens)")->required();
  cmd->add_option("--tiktoken", a.tiktoken_output, "Also write the ranks as a .tiktoken file");
  cmd->add_option("--hf-json", a.hf_json_output, "Also write a HF tokenizers tokenizer.json (byte-level BPE, the training merges)");
  cmd->add_flag("-q,--quiet", a.quiet, "No progress and no summary");
  cmd->add_option("inputs", a.inputs, "Input files, or - for standard input")->required();
  return cmd;
}

int run_train_command() {
  TrainArgs& a = args();
  // On a terminal progress rewrites one line; into a file or pipe it is a line every few seconds.
  const bool progress = !a.quiet;
  const bool tty = isatty(fileno(stderr));
  const double interval = tty ? 0.25 : 5.0;
  const char* lead = tty ? "\r" : "";
  const char* trail = tty ? "   " : "\n";
  const bool chatty = !a.quiet;
  std::string pattern = a.pattern == "gpt4"       ? std::string(kGpt4Pattern)
                        : a.pattern == "nanochat" ? std::string(kNanochatPattern)
                                                  : a.pattern;
  // Check what can be checked before reading gigabytes.
  if (a.vocab_size < 256 || a.vocab_size > (uint64_t(1) << 31)) {
    fail("--vocab-size must be between 256 and 2147483648, got " + std::to_string(a.vocab_size));
  }
  auto counter = ChunkCounter::create(pattern);
  if (!counter.ok()) fail("--pattern: " + counter.error());

  CorpusOptions options;
  options.format = a.input_format == "whole" ? InputFormat::kWhole
                   : a.input_format == "jsonl" ? InputFormat::kJsonl
                                               : InputFormat::kLines;
  options.jsonl_field = a.field;
  options.doc_cap = a.doc_cap;
  options.max_chars = a.max_chars;
  const double wall0 = wall_seconds(), cpu0 = cpu_seconds();
  double last_report = 0;
  if (progress) {
    options.on_progress = [&](uint64_t bytes) {
      double now = wall_seconds();
      if (now - last_report < interval) return;
      last_report = now;
      std::fprintf(stderr, "%scounting: %.1f MB read, %.1f MB/s%s", lead, double(bytes) / 1e6,
                   double(bytes) / 1e6 / std::max(1e-9, now - wall0), trail);
    };
  }
  CorpusReader reader(*counter, options);
  for (const auto& path : a.inputs) {
    Status s = reader.add_file(path);
    if (!s.ok()) fail(s.message());
    if (reader.done()) break;
  }
  const double wall1 = wall_seconds(), cpu1 = cpu_seconds();
  if (progress && tty) std::fprintf(stderr, "\r%*s\r", 60, "");

  TrainOptions topts;
  topts.vocab_size = a.vocab_size;
  topts.special_tokens = a.specials;
  double merge_start = 0;
  if (progress) {
    topts.on_progress = [&](uint32_t done, uint32_t requested) {
      double now = wall_seconds();
      if (merge_start == 0) merge_start = now;
      if (now - last_report < interval && done != requested) return;
      last_report = now;
      std::fprintf(stderr, "%smerging: %u / %u merges, %.0f merges/s%s", lead, done, requested,
                   double(done) / std::max(1e-9, now - merge_start), trail);
    };
  }
  // The summary's counting figures, taken before train_bpe consumes the chunk table.
  const uint64_t total_chunks = counter->total_chunks();
  const size_t distinct_chunks = counter->distinct_chunks();
  const size_t table_bytes = counter->memory_bytes();
  auto trained = train_bpe(std::move(*counter), topts);
  if (!trained.ok()) fail(trained.error());
  const double wall2 = wall_seconds(), cpu2 = cpu_seconds();
  if (progress && tty) std::fprintf(stderr, "\r%*s\r", 70, "");

  Status s = trained->model.write_model_file(a.output);
  if (!s.ok()) fail(s.message());
  if (!a.tiktoken_output.empty()) {
    s = trained->model.write_tiktoken_file(a.tiktoken_output);
    if (!s.ok()) fail(s.message());
  }
  if (!a.hf_json_output.empty()) {
    s = write_hf_tokenizer_json(trained->model, trained->merges, a.hf_json_output);
    if (!s.ok()) fail(s.message());
  }
  const double wall3 = wall_seconds(), cpu3 = cpu_seconds();

  if (chatty) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto& r = *trained;
    std::fprintf(stderr, "documents        %llu\n", (unsigned long long)reader.documents());
    std::fprintf(stderr, "bytes read       %llu\n", (unsigned long long)reader.bytes_read());
    std::fprintf(stderr, "chunks           %llu\n", (unsigned long long)total_chunks);
    std::fprintf(stderr, "distinct chunks  %zu\n", distinct_chunks);
    std::fprintf(stderr, "chunk table      %.1f MB\n", double(table_bytes) / 1e6);
    std::fprintf(stderr, "initial pairs    %llu\n", (unsigned long long)r.initial_pairs);
    std::fprintf(stderr, "merges           %zu of %u%s\n", r.merges.size(), r.merges_requested,
                 r.merges.size() < r.merges_requested ? " (no pair left: vocabulary is smaller than asked)" : "");
    std::fprintf(stderr, "vocabulary       %zu ranks + %zu special tokens\n", r.model.ranks.size(),
                 r.model.special_tokens.size());
    std::fprintf(stderr, "time count       %.2f s wall, %.2f s CPU\n", wall1 - wall0, cpu1 - cpu0);
    std::fprintf(stderr, "time setup       %.2f s\n", r.seconds_setup);
    std::fprintf(stderr, "time merge       %.2f s\n", r.seconds_merge);
    std::fprintf(stderr, "time train total %.2f s wall, %.2f s CPU\n", wall2 - wall1, cpu2 - cpu1);
    std::fprintf(stderr, "time write       %.2f s\n", wall3 - wall2);
    std::fprintf(stderr, "time total       %.2f s wall, %.2f s CPU\n", wall3 - wall0, cpu3 - cpu0);
    std::fprintf(stderr, "peak memory      %.1f MB\n", double(ru.ru_maxrss) / 1024.0);
    std::fprintf(stderr, "wrote            %s%s%s%s%s\n", a.output.c_str(), a.tiktoken_output.empty() ? "" : ", ",
                 a.tiktoken_output.c_str(), a.hf_json_output.empty() ? "" : ", ", a.hf_json_output.c_str());
  }
  return 0;
}

}  // namespace tokenmill::cli
