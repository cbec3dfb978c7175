// `tokenmill train`: count chunks from files (or stdin, or count tables), run the merge loop, write the
// model atomically. `tokenmill count --chunks` / `--merge`: stage 1 alone, into a chunk count table
// (include/tokenmill/chunk_table.h). Progress goes to stderr (bytes read and MB/s while counting, merges
// and merges/s after), then a summary; --quiet silences both.
#include "train_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "speed.h"
#include "tokenmill/chunk_table.h"
#include "tokenmill/hf_json.h"
#include "tokenmill/train.h"
#include "util/atomic_file.h"

namespace tokenmill::cli {

namespace {

struct TrainArgs {
  uint64_t vocab_size = 0;
  std::string pattern = "gpt4";
  std::string input_format = "lines";
  std::string field = "text";
  uint64_t doc_cap = 0;
  uint64_t max_chars = 0;
  uint64_t chunk_chars = 0;
  unsigned threads = 1;
  std::vector<std::string> specials;
  std::string output;
  std::string tiktoken_output;
  std::string hf_json_output;
  bool from_counts = false;
  bool quiet = false;
  std::vector<std::string> inputs;
  // tokenmill count --chunks / --merge
  bool count_chunks = false;
  bool count_merge = false;
  std::string count_output;
  CLI::Option* train_pattern_option = nullptr;
};

TrainArgs& args() {
  static TrainArgs a;
  return a;
}

std::string g_command = "train";

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "\ntokenmill %s: %s\n", g_command.c_str(), message.c_str());
  std::exit(1);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

// How a corpus becomes documents: the same options for `train` and `count --chunks`.
CLI::Option* add_corpus_options(CLI::App* cmd, TrainArgs& a) {
  auto* pattern = cmd->add_option("--pattern", a.pattern, "Split pattern: gpt4 (rustbpe's default), nanochat, or a regex")
                      ->capture_default_str();
  cmd->add_option("--input-format", a.input_format,
                  "lines (each line is a document, as Python's open() yields), whole (a file is one document), "
                  "jsonl (one JSON object per line), chunks (a file cut into documents of --chunk-chars characters)")
      ->check(CLI::IsMember({"lines", "whole", "jsonl", "chunks"}))
      ->capture_default_str();
  cmd->add_option("--field", a.field, "JSON Lines: the string field holding the document")->capture_default_str();
  cmd->add_option("--doc-cap", a.doc_cap, "Truncate each document to this many characters (0 = no cap)");
  cmd->add_option("--max-chars", a.max_chars, "Stop after the document that brings the total past this (0 = all)");
  cmd->add_option("--chunk-chars", a.chunk_chars, "--input-format chunks: characters per document");
  cmd->add_option("--threads", a.threads, "Counting threads (0 = one per core); the result does not depend on it")
      ->capture_default_str();
  return pattern;
}

std::string resolve_pattern(const std::string& p) {
  return p == "gpt4" ? std::string(kGpt4Pattern) : p == "nanochat" ? std::string(kNanochatPattern) : p;
}

struct Progress {
  bool on = false;
  bool tty = false;
  double interval = 5.0;
  const char* lead = "";
  const char* trail = "\n";
  double last_report = 0;

  explicit Progress(bool enabled) : on(enabled), tty(isatty(fileno(stderr))) {
    // On a terminal progress rewrites one line; into a file or pipe it is a line every few seconds.
    interval = tty ? 0.25 : 5.0;
    lead = tty ? "\r" : "";
    trail = tty ? "   " : "\n";
  }
  void clear(int width) {
    if (on && tty) std::fprintf(stderr, "\r%*s\r", width, "");
  }
};

struct Counted {
  uint64_t documents = 0;
  uint64_t bytes_read = 0;
  double wall = 0, cpu = 0;
};

// Stage 1 over text files into `counter`.
Counted count_corpus(const TrainArgs& a, const std::vector<std::string>& inputs, ChunkCounter& counter,
                     Progress& progress) {
  CorpusOptions options;
  options.format = a.input_format == "whole"   ? InputFormat::kWhole
                   : a.input_format == "jsonl"  ? InputFormat::kJsonl
                   : a.input_format == "chunks" ? InputFormat::kChunks
                                                : InputFormat::kLines;
  if (options.format == InputFormat::kChunks && a.chunk_chars == 0) fail("--input-format chunks needs --chunk-chars N (N > 0)");
  if (options.format != InputFormat::kChunks && a.chunk_chars != 0) fail("--chunk-chars needs --input-format chunks");
  options.chunk_chars = a.chunk_chars;
  options.threads = a.threads;
  options.jsonl_field = a.field;
  options.doc_cap = a.doc_cap;
  options.max_chars = a.max_chars;
  const double wall0 = wall_seconds(), cpu0 = process_cpu_seconds();
  if (progress.on) {
    options.on_progress = [&progress, wall0](uint64_t bytes) {
      double now = wall_seconds();
      if (now - progress.last_report < progress.interval) return;
      progress.last_report = now;
      std::fprintf(stderr, "%scounting: %.1f MB read, %.1f MB/s%s", progress.lead, double(bytes) / 1e6,
                   double(bytes) / 1e6 / std::max(1e-9, now - wall0), progress.trail);
    };
  }
  CorpusReader reader(counter, options);
  for (const auto& path : inputs) {
    Status s = reader.add_file(path);
    if (!s.ok()) fail(s.message());
    if (reader.done()) break;
  }
  progress.clear(60);
  return Counted{reader.documents(), reader.bytes_read(), wall_seconds() - wall0, process_cpu_seconds() - cpu0};
}

// Count tables into one counter (the first table's pattern; every other table must have the same).
ChunkCounter read_tables(const std::vector<std::string>& tables) {
  auto counter = read_chunk_table(tables.at(0));
  if (!counter.ok()) fail(counter.error());
  for (size_t i = 1; i < tables.size(); ++i) {
    Status s = add_chunk_table(tables[i], *counter);
    if (!s.ok()) fail(s.message() + (s.code() == ErrorCode::kInvalidArgument ? " (first table: " + tables[0] + ")" : ""));
  }
  return std::move(counter).value();
}

}  // namespace

CLI::App* add_train_command(CLI::App& app) {
  TrainArgs& a = args();
  auto* cmd = app.add_subcommand("train", "Train a byte-level BPE vocabulary (exactly rustbpe 0.1.0's merges)");
  cmd->add_option("--vocab-size", a.vocab_size, "Ids after training: 256 bytes + merges (256..2^31)")->required();
  a.train_pattern_option = add_corpus_options(cmd, a);
  cmd->add_option("--special", a.specials, "Special tokens, appended after the merges in this order");
  cmd->add_option("-o,--output", a.output, "Model file (ranks + pattern + special tokens)")->required();
  cmd->add_option("--tiktoken", a.tiktoken_output, "Also write the ranks as a .tiktoken file");
  cmd->add_option("--hf-json", a.hf_json_output, "Also write a HF tokenizers tokenizer.json (byte-level BPE, the training merges)");
  cmd->add_flag("--from-counts", a.from_counts,
                "The inputs are chunk count tables (tokenmill count --chunks / --merge), not text; the tables' "
                "pattern is used");
  cmd->add_flag("-q,--quiet", a.quiet, "No progress and no summary");
  cmd->add_option("inputs", a.inputs, "Input files, or - for standard input (with --from-counts: tables)")->required();
  return cmd;
}

void add_count_chunks_options(CLI::App& count) {
  TrainArgs& a = args();
  count.add_flag("--chunks", a.count_chunks,
                 "Instead of tokens: count the corpus's chunks (training stage 1) into a chunk count table (-o)");
  count.add_flag("--merge", a.count_merge, "Merge chunk count tables (the inputs) into one (-o)");
  count.add_option("-o,--output", a.count_output, "--chunks / --merge: the table to write (atomically)");
  add_corpus_options(&count, a);
  count.add_flag("-q,--quiet", a.quiet, "--chunks / --merge: no progress and no summary");
}

bool count_chunks_selected() { return args().count_chunks || args().count_merge; }

int run_count_chunks(const std::vector<std::string>& inputs) {
  TrainArgs& a = args();
  g_command = "count";
  if (a.count_chunks && a.count_merge) fail("--chunks and --merge do not go together");
  if (a.count_output.empty()) fail(std::string(a.count_chunks ? "--chunks" : "--merge") + " needs -o TABLE");
  Progress progress(!a.quiet);
  const double wall0 = wall_seconds(), cpu0 = process_cpu_seconds();
  ChunkCounter counter = [&] {
    if (a.count_merge) {
      if (inputs.empty()) fail("--merge needs the tables to merge");
      return read_tables(inputs);
    }
    auto c = ChunkCounter::create(resolve_pattern(a.pattern));
    if (!c.ok()) fail("--pattern: " + c.error());
    count_corpus(a, inputs.empty() ? std::vector<std::string>{"-"} : inputs, *c, progress);
    return std::move(c).value();
  }();
  if (counter.total_chunks() == 0 && a.count_chunks) fail("empty corpus: no chunk to count");
  Status s = write_chunk_table(counter, a.count_output);
  if (!s.ok()) fail(s.message());
  if (!a.quiet) {
    std::fprintf(stderr, "documents        %llu\n", (unsigned long long)counter.documents());
    std::fprintf(stderr, "chunks           %llu\n", (unsigned long long)counter.total_chunks());
    std::fprintf(stderr, "distinct chunks  %zu\n", counter.distinct_chunks());
    std::fprintf(stderr, "time             %.2f s wall, %.2f s CPU\n", wall_seconds() - wall0,
                 process_cpu_seconds() - cpu0);
    std::fprintf(stderr, "peak memory      %.1f MB\n", peak_rss_mb());
    std::fprintf(stderr, "wrote            %s\n", a.count_output.c_str());
  }
  return 0;
}

int run_train_command() {
  TrainArgs& a = args();
  g_command = "train";
  Progress progress(!a.quiet);
  const bool chatty = !a.quiet;
  // Check what can be checked before reading gigabytes.
  if (a.vocab_size < 256 || a.vocab_size > (uint64_t(1) << 31)) {
    fail("--vocab-size must be between 256 and 2147483648, got " + std::to_string(a.vocab_size));
  }

  const double wall0 = wall_seconds(), cpu0 = process_cpu_seconds();
  Counted counted;
  ChunkCounter counter = [&] {
    if (a.from_counts) {
      ChunkCounter c = read_tables(a.inputs);
      if (a.train_pattern_option->count() > 0 && resolve_pattern(a.pattern) != c.pattern()) {
        fail("--pattern differs from the pattern the tables were counted with (" + c.pattern() + ")");
      }
      counted.documents = c.documents();
      return c;
    }
    auto c = ChunkCounter::create(resolve_pattern(a.pattern));
    if (!c.ok()) fail("--pattern: " + c.error());
    counted = count_corpus(a, a.inputs, *c, progress);
    return std::move(c).value();
  }();
  const double wall1 = wall_seconds(), cpu1 = process_cpu_seconds();

  TrainOptions topts;
  topts.vocab_size = a.vocab_size;
  topts.special_tokens = a.specials;
  double merge_start = 0;
  if (progress.on) {
    topts.on_progress = [&](uint32_t done, uint32_t requested) {
      double now = wall_seconds();
      if (merge_start == 0) merge_start = now;
      if (now - progress.last_report < progress.interval && done != requested) return;
      progress.last_report = now;
      std::fprintf(stderr, "%smerging: %u / %u merges, %.0f merges/s%s", progress.lead, done, requested,
                   double(done) / std::max(1e-9, now - merge_start), progress.trail);
    };
  }
  // The summary's counting figures, taken before train_bpe consumes the chunk table.
  const uint64_t total_chunks = counter.total_chunks();
  const size_t distinct_chunks = counter.distinct_chunks();
  const size_t table_bytes = counter.memory_bytes();
  auto trained = train_bpe(std::move(counter), topts);
  if (!trained.ok()) fail(trained.error());
  const double wall2 = wall_seconds(), cpu2 = process_cpu_seconds();
  progress.clear(70);

  // All outputs or none: a run that cannot write its tokenizer.json must not leave a model behind that
  // looks like the result.
  std::vector<std::pair<std::string, std::string>> outputs;
  outputs.emplace_back(a.output, trained->model.to_model_file());
  if (!a.tiktoken_output.empty()) outputs.emplace_back(a.tiktoken_output, trained->model.ranks.to_tiktoken());
  if (!a.hf_json_output.empty()) {
    auto json = hf_tokenizer_json(trained->model, trained->merges);
    if (!json.ok()) fail(a.hf_json_output + ": " + json.error());
    outputs.emplace_back(a.hf_json_output, std::move(json).value());
  }
  if (Status s = write_files_atomically(outputs); !s.ok()) fail(s.message());
  const double wall3 = wall_seconds(), cpu3 = process_cpu_seconds();

  if (chatty) {
    const auto& r = *trained;
    std::fprintf(stderr, "documents        %llu\n", (unsigned long long)counted.documents);
    if (!a.from_counts) std::fprintf(stderr, "bytes read       %llu\n", (unsigned long long)counted.bytes_read);
    std::fprintf(stderr, "chunks           %llu\n", (unsigned long long)total_chunks);
    std::fprintf(stderr, "distinct chunks  %zu\n", distinct_chunks);
    std::fprintf(stderr, "chunk table      %.1f MB\n", double(table_bytes) / 1e6);
    std::fprintf(stderr, "initial pairs    %llu\n", (unsigned long long)r.initial_pairs);
    std::fprintf(stderr, "merges           %zu of %u%s\n", r.merges.size(), r.merges_requested,
                 r.merges.size() < r.merges_requested ? " (no pair left: vocabulary is smaller than asked)" : "");
    std::fprintf(stderr, "vocabulary       %zu ranks + %zu special tokens\n", r.model.ranks.size(),
                 r.model.special_tokens.size());
    std::fprintf(stderr, "time %s       %.2f s wall, %.2f s CPU\n", !a.from_counts ? "count" : "read ",
                 wall1 - wall0, cpu1 - cpu0);
    std::fprintf(stderr, "time setup       %.2f s\n", r.seconds_setup);
    std::fprintf(stderr, "time merge       %.2f s\n", r.seconds_merge);
    std::fprintf(stderr, "time train total %.2f s wall, %.2f s CPU\n", wall2 - wall1, cpu2 - cpu1);
    std::fprintf(stderr, "time write       %.2f s\n", wall3 - wall2);
    std::fprintf(stderr, "time total       %.2f s wall, %.2f s CPU\n", wall3 - wall0, cpu3 - cpu0);
    std::fprintf(stderr, "peak memory      %.1f MB\n", peak_rss_mb());
    std::fprintf(stderr, "wrote            %s%s%s%s%s\n", a.output.c_str(), a.tiktoken_output.empty() ? "" : ", ",
                 a.tiktoken_output.c_str(), a.hf_json_output.empty() ? "" : ", ", a.hf_json_output.c_str());
  }
  return 0;
}

}  // namespace tokenmill::cli
