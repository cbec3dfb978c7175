// `tokenmill train` (cli/train_command.cc), kept apart from the encode/decode commands.
#pragma once

#include <CLI/CLI.hpp>

namespace tokenmill::cli {

// Registers the subcommand and its options on `app`; run_train_command() runs it once parsed.
CLI::App* add_train_command(CLI::App& app);
int run_train_command();

}  // namespace tokenmill::cli
