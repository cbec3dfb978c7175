// tokenmill_bench: the tokenmill side of bench/run.py.
//
//   tokenmill_bench ENCODING FILE [--bytes] [--repeat N] [--ids-out PATH] [--threads N] [--lines]
//
// Loads ENCODING (rank files from the cache: TOKENMILL_CACHE_DIR, never fetched here), reads FILE whole,
// encodes it with encode_ordinary (or encode_bytes with --bytes) N times (default 3) and prints one JSON
// object on stdout:
//
//   {"encoding": ..., "bytes": B, "tokens": T, "cpu_seconds": best, "mb_per_cpu_s": B / 1e6 / best,
//    "load_cpu_seconds": ..., "repeat": N, "peak_rss_kb": VmHWM, "warm_cpu_seconds": W}
//
// W is one more encode of the same text with the last run's encoding, its piece cache already filled.
//
// --threads N (N > 1) encodes the one text with encode_ordinary_parallel on N threads and adds "wall_seconds"
// (the best run's wall-clock time), since CPU time then sums the threads.
// --lines encodes the file's lines (each with its '\n') as one encode_ordinary_batch on --threads threads,
// as a dataset or a batch of prompts is; --ids-out then holds the lines' ids one after the other (joined after
// the timing, which covers the call alone).
//
// cpu_seconds is process CPU time (CLOCK_PROCESS_CPUTIME_ID) around the encode call only, the best of the N
// runs; loading the encoding and reading the file are excluded. --ids-out writes the ids of the last run as
// raw little-endian uint32 so run.py can compare them id by id with tiktoken's. peak_rss_kb is VmHWM from
// /proc/self/status: unlike getrusage's ru_maxrss it does not include the RSS of the parent that forked us.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "tokenmill/encoding.h"

namespace {

double wall_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Peak resident set of this process image (VmHWM), in KiB; -1 if unknown.
long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

[[noreturn]] void usage() {
  std::cerr << "usage: tokenmill_bench ENCODING FILE [--bytes] [--repeat N] [--ids-out PATH] [--threads N] [--lines]\n";
  std::exit(2);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return false;
  in.seekg(0, std::ios::beg);
  out.resize(static_cast<size_t>(size));
  if (size > 0 && !in.read(out.data(), size)) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool bytes_mode = false, lines_mode = false;
  int repeat = 3;
  unsigned threads = 1;
  std::string ids_out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--bytes") {
      bytes_mode = true;
    } else if (arg == "--lines") {
      lines_mode = true;
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
      if (repeat < 1) usage();
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = unsigned(std::atoi(argv[++i]));
      if (threads < 1) usage();
    } else if (arg == "--ids-out" && i + 1 < argc) {
      ids_out = argv[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      usage();
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) usage();
  const std::string& name = positional[0];
  const std::string& path = positional[1];

  tokenmill::LoadOptions options;
  options.fetch_if_missing = false;  // a benchmark never touches the network
  const double load_start = cpu_now();
  auto enc = tokenmill::Encoding::load(name, options);
  const double load_cpu = cpu_now() - load_start;
  if (!enc.ok()) {
    std::cerr << "tokenmill_bench: " << enc.error() << "\n";
    return 1;
  }

  std::string text;
  if (!read_file(path, text)) {
    std::cerr << "tokenmill_bench: " << path << ": cannot read\n";
    return 1;
  }

  std::vector<std::string_view> lines;
  for (size_t pos = 0; lines_mode && pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(std::string_view(text).substr(pos, end - pos));
    pos = end;
  }
  // One call of the selected mode; the lines' ids are concatenated. `call_cpu` / `call_wall` get the time
  // of the call alone: joining and freeing a batch's million results (on one thread) is not the call's.
  double call_cpu = 0, call_wall = 0;
  auto encode_once = [&](unsigned n_threads) -> tokenmill::Result<std::vector<tokenmill::Rank>> {
    const double start = cpu_now(), wall_start = wall_now();
    auto timed = [&] {
      call_cpu = cpu_now() - start;
      call_wall = wall_now() - wall_start;
    };
    if (!lines_mode) {
      auto ids = bytes_mode      ? enc->encode_bytes(text)
                 : n_threads > 1 ? enc->encode_ordinary_parallel(text, n_threads)
                                 : enc->encode_ordinary(text);
      timed();
      return ids;
    }
    auto batch = enc->encode_ordinary_batch(lines, n_threads);
    timed();
    if (!batch.ok()) return batch.status();
    std::vector<tokenmill::Rank> all;
    for (const auto& one : *batch) all.insert(all.end(), one.begin(), one.end());
    return all;
  };

  std::vector<tokenmill::Rank> ids;
  double best = std::numeric_limits<double>::infinity();
  double best_wall = std::numeric_limits<double>::infinity();
  for (int r = 0; r < repeat; ++r) {
    ids.clear();
    ids.shrink_to_fit();  // each run allocates its output afresh, as a caller's first call would
    // Each run after the first gets a freshly loaded encoding, so it starts with an empty piece cache (the
    // cache is per encoding): a run must not be timed on what an earlier run over the same text left there.
    if (r > 0) enc = tokenmill::Encoding::load(name, options);
    if (!enc.ok()) {
      std::cerr << "tokenmill_bench: " << enc.error() << "\n";
      return 1;
    }
    auto encoded = encode_once(threads);
    if (!encoded.ok()) {
      std::cerr << "tokenmill_bench: " << encoded.error() << "\n";
      return 1;
    }
    ids = std::move(encoded).value();
    const double elapsed = call_cpu, wall = call_wall;
    if (elapsed < best) best = elapsed;
    if (wall < best_wall) best_wall = wall;
  }

  // Warm: the same text again with the encoding of the last run, whose piece cache that run filled.
  auto warm = encode_once(1);
  const double warm_cpu = call_cpu;
  if (!warm.ok() || *warm != ids) {
    std::cerr << "tokenmill_bench: a second encode of the same text gave other ids\n";
    return 1;
  }
  if (!ids_out.empty()) {
    std::ofstream out(ids_out, std::ios::binary);
    static_assert(sizeof(tokenmill::Rank) == 4);
    out.write(reinterpret_cast<const char*>(ids.data()),
              static_cast<std::streamsize>(ids.size() * sizeof(tokenmill::Rank)));
    if (!out) {
      std::cerr << "tokenmill_bench: " << ids_out << ": cannot write\n";
      return 1;
    }
  }

  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf(
      "{\"encoding\": \"%s\", \"bytes\": %zu, \"tokens\": %zu, \"cpu_seconds\": %.6f, \"mb_per_cpu_s\": %.3f, "
      "\"load_cpu_seconds\": %.6f, \"repeat\": %d, \"mode\": \"%s\", \"peak_rss_kb\": %ld, \"warm_cpu_seconds\": %.6f, "
      "\"threads\": %u, \"wall_seconds\": %.6f}\n",
      name.c_str(), text.size(), ids.size(), best, best > 0 ? mb / best : 0.0, load_cpu, repeat,
      bytes_mode   ? "encode_bytes"
      : lines_mode ? "encode_ordinary_batch"
                   : "encode_ordinary",
      peak_rss_kb(), warm_cpu, threads, best_wall);
  return 0;
}
