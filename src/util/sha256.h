// SHA-256 (FIPS 180-4), to verify downloaded rank files against tiktoken's published hashes without
// pulling in a crypto library for one function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tokenmill/status.h"

namespace tokenmill::util {

// Lowercase hex digest.
std::string sha256_hex(std::string_view data);
// The digest of a file's bytes, read in blocks; errors name the file.
Result<std::string> sha256_file(const std::string& path);
// Whether the x86 SHA instructions are used (where the CPU has them); tests turn them off to compare the
// two paths. Returns whether they are used from now on.
bool sha256_uses_hardware(bool enabled);

}  // namespace tokenmill::util

namespace tokenmill::util {

// The same digest over data that arrives in pieces (a file hashed while it streams through a reader).
class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  std::string hex_digest();  // ends the message; call once

 private:
  uint32_t state_[8];
  unsigned char block_[64];
  size_t block_len_ = 0;
  uint64_t total_ = 0;
};

}  // namespace tokenmill::util
