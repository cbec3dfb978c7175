// SHA-256 (FIPS 180-4), to verify downloaded rank files against tiktoken's published hashes without
// pulling in a crypto library for one function.
#pragma once

#include <string>
#include <string_view>

namespace tokenmill::util {

// Lowercase hex digest.
std::string sha256_hex(std::string_view data);

}  // namespace tokenmill::util
