// PREFIX.manifest.json: what a tokenize run read, with what, and which shards are complete. Written after
// every shard (atomically), so after a kill it lists exactly the shards that are complete; a resumed run
// reads it back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset/shard_writer.h"
#include "tokenmill/dataset.h"
#include "tokenmill/status.h"

namespace tokenmill::dataset {

struct ShardRecord {
  uint64_t index = 0;
  uint64_t documents = 0;  // documents that end in this shard
  uint64_t tokens = 0;
  uint64_t documents_end = 0;     // documents (in input order, after skipped records) written up to its end
  uint64_t carry_tokens = 0;      // llmc: tokens of document `documents_end` already in this shard
  std::vector<FileRecord> files;  // paths relative to the manifest's folder
};

struct Manifest {
  bool complete = false;
  std::string tokenizer_name;
  std::string tokenizer_sha256;
  uint32_t n_vocab = 0;
  // The options that decide the output bytes, as one canonical JSON object (compared on resume).
  std::string options_json;
  std::vector<InputInfo> inputs;
  std::vector<ShardRecord> shards;
  uint64_t documents = 0;
  uint64_t tokens = 0;
  uint64_t skipped = 0;
  uint64_t repaired = 0;

  std::string to_json() const;
  static Result<Manifest> parse(std::string_view json, const std::string& source_name);
};

std::string json_quote(std::string_view s);

}  // namespace tokenmill::dataset
