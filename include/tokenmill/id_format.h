// The two ways token ids travel in files and pipes (the CLI's encode output and decode input):
//   text:   decimal ids separated by whitespace or commas, optionally in [ ] (a JSON or Python list reads
//           as is); written as ids separated by single spaces and a final newline;
//   binary: each id as 4 bytes, unsigned little-endian (numpy's "<u4"), nothing else.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmill/status.h"
#include "tokenmill/vocab.h"

namespace tokenmill {

std::string ids_to_text(std::span<const Rank> ids);
std::string ids_to_binary(std::span<const Rank> ids);

// Errors name `source` and, for text, the line and the text that is not an id (kParseError).
Result<std::vector<Rank>> parse_ids_text(std::string_view data, std::string_view source);
Result<std::vector<Rank>> parse_ids_binary(std::string_view data, std::string_view source);

}  // namespace tokenmill
