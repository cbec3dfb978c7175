// `tokenmill tokenize` (cli/tokenize_command.cc): corpora into token shards (include/tokenmill/dataset.h).
#pragma once

#include <CLI/CLI.hpp>

namespace tokenmill::cli {

// Registers the subcommand and its options on `app`; run_tokenize_command() runs it once parsed.
CLI::App* add_tokenize_command(CLI::App& app);
int run_tokenize_command();

}  // namespace tokenmill::cli
