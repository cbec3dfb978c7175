// Reading a whole file as a value: every failure (missing file, a directory, a read error, a file larger
// than the caller allows, no memory for it) is a Status naming the file, never a short string or an
// exception.
#pragma once

#include <cstdint>
#include <string>

#include "tokenmill/status.h"

namespace tokenmill {

inline constexpr uint64_t kNoSizeLimit = UINT64_MAX;
// The most a rank file or model file may hold: 70 times o200k's 3.6 MB (about 10 million tokens), and the
// bound on what a wrong path such as /dev/zero makes a loader read.
inline constexpr uint64_t kMaxRankFileBytes = uint64_t(256) << 20;

// The file's bytes, or "-" for standard input. `max_bytes`: anything longer is an error (so /dev/zero or
// a wrong path cannot make a parser allocate without bound); `what` names the file's role in messages
// ("rank file", "model file", ...).
Result<std::string> read_file(const std::string& path, uint64_t max_bytes = kNoSizeLimit, const char* what = "file");

}  // namespace tokenmill
