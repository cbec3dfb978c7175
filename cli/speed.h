// count --speed: CPU time of the process and the line it prints, the same for every kind of model.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

namespace tokenmill::cli {

inline double process_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// stderr: `bytes` of `path` gave `tokens` in `cpu_seconds`, with `what` (the encoding or tokenizer file).
inline void print_speed(const std::string& path, size_t bytes, size_t tokens, double cpu_seconds,
                        const std::string& what) {
  std::fprintf(stderr, "%s: %zu bytes, %zu tokens, %.3f CPU-s, %.1f MB/CPU-s (%s)\n", path.c_str(), bytes, tokens,
               cpu_seconds, cpu_seconds > 0 ? double(bytes) / 1e6 / cpu_seconds : 0.0, what.c_str());
}

}  // namespace tokenmill::cli
