// `tokenmill train` (cli/train_command.cc), kept apart from the encode/decode commands.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace tokenmill::cli {

// Registers the subcommand and its options on `app`; run_train_command() runs it once parsed.
CLI::App* add_train_command(CLI::App& app);
int run_train_command();

// `tokenmill count --chunks` / `--merge` (chunk count tables): registers the options on the existing
// `count` subcommand; when one of the two flags is given, run_count_chunks replaces token counting.
void add_count_chunks_options(CLI::App& count);
bool count_chunks_selected();
int run_count_chunks(const std::vector<std::string>& inputs);

}  // namespace tokenmill::cli
