// `tokenmill encode|decode|count -t tokenizer.json` (cli/tokenizer_command.cc): the same subcommands on a
// Hugging Face tokenizer.json instead of a tiktoken encoding.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenmill::cli {

// Adds -t/--tokenizer (and --add-special-tokens, --offsets, --keep-special-tokens) to the subcommands.
void add_tokenizer_options(CLI::App& encode, CLI::App& decode, CLI::App& count);
bool tokenizer_selected();

struct TokenizerIo {
  std::function<std::string(const std::string&)> read;              // path or "-"
  std::function<void(const std::string&, std::string_view)> write;  // path ("" = stdout), data
};
// Runs the parsed subcommand ("encode", "decode" or "count") with the tokenizer; returns the exit status.
// `show_speed`: count prints count's --speed line for each input.
int run_tokenizer_command(const std::string& command, const std::vector<std::string>& inputs, const std::string& output,
                          bool binary, bool show_speed, const TokenizerIo& io);

}  // namespace tokenmill::cli
