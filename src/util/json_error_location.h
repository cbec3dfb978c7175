#pragma once

// Where a JSON text that simdjson's DOM parser refused goes wrong, for an error message a person can act
// on: the DOM parser says what is wrong but not where.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tokenmill::util {

// The byte offset of the first error in `json`, as far as a second, position-keeping pass (simdjson's
// On-Demand API, walking every value) finds one: the start of the token that breaks the grammar, or of
// content after the top-level value; for invalid UTF-8, its first bad byte. nullopt where the text cannot
// be walked to its error (an unterminated string; nesting deeper than 128).
std::optional<size_t> json_error_offset(std::string_view json);

// "byte N (line L, column C)" for an offset into `text`; lines and columns count from 1, columns in bytes.
std::string describe_offset(std::string_view text, size_t offset);

}  // namespace tokenmill::util
