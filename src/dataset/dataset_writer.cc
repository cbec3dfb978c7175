// The sink of the dataset pipeline: documents in input order -> batches -> encoding tasks on the library's
// thread pool (at most `threads` at once) -> shards in the same order. Batches are written strictly by
// sequence number, so the bytes do not depend on which thread encoded what; at most `2 * threads + 2`
// batches are in flight, which bounds memory.
#include <simdjson.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>

#include "dataset/manifest.h"
#include "dataset/shard_writer.h"
#include "tokenmill/dataset.h"
#include "tokenmill/file_io.h"
#include "tokenmill/train.h"
#include "util/atomic_file.h"
#include "util/no_throw.h"
#include "util/sha256.h"
#include "util/thread_pool.h"

namespace tokenmill {

namespace fs = std::filesystem;
using dataset::FileRecord;
using dataset::Manifest;
using dataset::ShardRecord;

namespace {

const char* format_name(ShardFormat f) {
  switch (f) {
    case ShardFormat::kMegatron:
      return "megatron";
    case ShardFormat::kNanogpt:
      return "nanogpt";
    case ShardFormat::kLlmc:
      return "llmc";
  }
  return "?";
}
const char* separator_name(Separator s) {
  switch (s) {
    case Separator::kNone:
      return "none";
    case Separator::kBos:
      return "bos";
    case Separator::kEos:
      return "eos";
  }
  return "?";
}
const char* document_format_name(DocumentFormat f) {
  switch (f) {
    case DocumentFormat::kAuto:
      return "auto";
    case DocumentFormat::kLines:
      return "lines";
    case DocumentFormat::kWhole:
      return "whole";
    case DocumentFormat::kJsonl:
      return "jsonl";
  }
  return "?";
}

struct Batch {
  uint64_t seq = 0;
  std::string text;
  std::vector<size_t> ends;
  std::vector<uint64_t> lines;    // per document: its line in its source (0 = unknown)
  std::vector<uint32_t> sources;  // per document: its index in DatasetWriter::Impl::sources
  size_t failed_document = 0;     // with !status.ok(): the document it is about
  std::vector<Rank> tokens;
  std::vector<size_t> token_ends;
  Status status;  // a custom pattern's regex can give up on a document: the batch is then not written
  bool done = false;
};

}  // namespace

std::string encoding_sha256(const Encoding& encoding) {
  util::Sha256 h;
  h.update("pattern\n");
  h.update(encoding.pattern());
  h.update("\nranks\n");
  h.update(encoding.ranks().to_tiktoken());
  h.update("specials\n");
  for (const auto& [token, id] : encoding.special_tokens()) {
    h.update(token);
    h.update(" ");
    h.update(std::to_string(id));
    h.update("\n");
  }
  return h.hex_digest();
}

DatasetTokenizer DatasetTokenizer::of(const Encoding& encoding, std::string name) {
  DatasetTokenizer t;
  t.name = std::move(name);
  t.sha256 = encoding_sha256(encoding);
  t.n_vocab = encoding.n_vocab();
  t.eot = encoding.eot_token();
  // One pipelined pass over the batch (Encoding::encode_ordinary_documents).
  t.encode_documents = [encoding](std::string_view text, std::span<const size_t> ends, std::vector<Rank>& out,
                                  std::vector<size_t>& token_ends, Rank begin_token, Rank end_token) {
    return encoding.encode_ordinary_documents(text, ends, out, token_ends, begin_token, end_token);
  };
  t.token_id = [encoding](std::string_view token) -> std::optional<Rank> {
    auto id = encoding.encode_single_token(token);
    if (!id.ok()) return std::nullopt;
    return *id;
  };
  return t;
}

DatasetTokenizer DatasetTokenizer::of(const Tokenizer& tokenizer, std::string name, std::string file_sha256,
                                      bool add_special_tokens) {
  DatasetTokenizer t;
  t.name = std::move(name);
  t.sha256 = std::move(file_sha256);
  t.n_vocab = uint32_t(tokenizer.vocab_size(true));
  t.eot = tokenizer.token_to_id("<|endoftext|>");
  t.encode_documents = [tokenizer, add_special_tokens](std::string_view text, std::span<const size_t> ends,
                                                       std::vector<Rank>& out, std::vector<size_t>& token_ends,
                                                       Rank begin_token, Rank end_token) -> Status {
    size_t start = 0;
    for (size_t end : ends) {
      if (begin_token != kNoRank) out.push_back(begin_token);
      auto ids = tokenizer.encode_ids(text.substr(start, end - start), add_special_tokens);
      if (!ids.ok()) return ids.status();
      out.insert(out.end(), ids->begin(), ids->end());
      if (end_token != kNoRank) out.push_back(end_token);
      token_ends.push_back(out.size());
      start = end;
    }
    return Status();
  };
  t.token_id = [tokenizer](std::string_view token) { return tokenizer.token_to_id(token); };
  return t;
}

Result<DatasetTokenizer> DatasetTokenizer::from_tokenizer_file(const std::string& path, bool add_special_tokens) try {
  auto json = read_file(path, kMaxRankFileBytes, "tokenizer file");
  if (!json.ok()) return json.status();
  auto tok = Tokenizer::from_string(*json, path);
  if (!tok.ok()) return tok.status();
  return of(*tok, path, util::sha256_hex(*json), add_special_tokens);
} catch (...) {
  return util::exception_status([&] { return "loading the tokenizer " + path; });
}

struct DatasetWriter::Impl {
  DatasetTokenizer enc;
  TokenizeOptions opt;
  Manifest manifest;
  std::string manifest_path;
  fs::path dir;
  std::string stem;
  bool sharded = false;
  uint64_t shard_limit = 0;
  std::optional<Rank> sep;
  bool already_complete = false;

  uint64_t skip_docs = 0;     // documents held by the complete shards of an earlier run
  uint64_t doc_done = 0;      // tokens of the current document already written (llmc: across shards)
  uint64_t docs_seen = 0;     // add_document calls
  uint64_t docs_written = 0;  // documents complete in the output (shards kept + written now)
  uint64_t tokens_written = 0;
  uint64_t resumed_documents = 0;
  uint64_t bytes_read = 0;
  std::vector<std::string> files;

  std::unique_ptr<dataset::ShardWriter> shard;
  bool shard_open = false;
  Status failed;

  Batch current;
  // Written batches, emptied with their buffers kept: a fresh Batch grew its text and ids from nothing and
  // the kernel zeroed new pages for them (about a sixth of the producer thread's time on .jsonl.zst input,
  // the thread that bounds 2-thread runs). Only the producer thread touches it.
  std::vector<std::unique_ptr<Batch>> spare;
  uint64_t next_seq = 0;
  struct Source {
    std::string name;
    std::function<uint64_t(uint64_t)> file_line;
  };
  std::vector<Source> sources;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now(), last_progress = start;

  // Encoding threads (the pool's workers; this producer thread reads, parses and writes).
  unsigned threads = 1;
  std::mutex m;
  std::condition_variable batch_done;
  std::deque<std::unique_ptr<Batch>> inflight;  // in sequence order
  // Null until the first batch. Declared last, so it is destroyed first: its destructor waits for the
  // encoding tasks, which use the members above.
  std::unique_ptr<util::TaskGroup> encoders;

  explicit Impl(DatasetTokenizer e) : enc(std::move(e)) {}

  void stop_workers() { encoders.reset(); }

  std::string base_for(uint64_t index) const {
    if (!sharded) return (dir / stem).string();
    char buf[32];
    std::snprintf(buf, sizeof buf, "_%06llu", static_cast<unsigned long long>(index));
    return (dir / (stem + buf)).string();
  }

  // Runs on the encoding threads too: an exception there would terminate the process, so it becomes the
  // batch's status.
  void encode(Batch& b) const try {
    b.tokens.reserve(b.text.size() / 3 + 2 * b.ends.size());
    const Rank begin = sep && opt.separator == Separator::kBos ? *sep : kNoRank;
    const Rank end = sep && opt.separator == Separator::kEos ? *sep : kNoRank;
    b.status = enc.encode_documents(b.text, b.ends, b.tokens, b.token_ends, begin, end);
    if (!b.status.ok()) b.failed_document = b.token_ends.size();
  } catch (...) {
    b.status =
        util::exception_status([&] { return "encoding a batch of " + std::to_string(b.ends.size()) + " documents"; });
  }

  Status write_manifest() {
    manifest.documents = docs_written;
    manifest.tokens = tokens_written;
    return write_file_atomically(manifest_path, manifest.to_json());
  }

  Status ensure_shard() {
    if (shard_open) return Status();
    auto w = dataset::make_shard_writer(opt.format, enc.n_vocab);
    if (!w.ok()) return w.status();
    shard = std::move(w).value();
    if (Status s = shard->open(base_for(manifest.shards.size())); !s.ok()) return s;
    shard_open = true;
    return Status();
  }

  // `documents_end`: documents complete after this shard; `carry`: tokens of the next one inside it.
  Status close_shard(uint64_t carry) {
    auto files_written = shard->commit();
    shard_open = false;
    if (!files_written.ok()) return files_written.status();
    ShardRecord r;
    r.index = manifest.shards.size();
    r.documents = shard->documents();
    r.tokens = shard->tokens();
    r.documents_end = docs_written;
    r.carry_tokens = carry;
    for (FileRecord f : files_written.value()) {
      files.push_back(f.path);
      f.path = fs::path(f.path).filename().string();
      r.files.push_back(std::move(f));
    }
    manifest.shards.push_back(std::move(r));
    return write_manifest();
  }

  // Where a document came from, for a batch's error (called on the producer's thread, which owns sources).
  Status located(const Batch& b) const {
    const size_t k = b.failed_document;
    if (k >= b.sources.size() || b.sources[k] >= sources.size()) return b.status;
    const Source& src = sources[b.sources[k]];
    std::string where = src.name;
    if (b.lines[k] != 0) where += ":" + std::to_string(src.file_line ? src.file_line(b.lines[k]) : b.lines[k]);
    return Status(b.status.code(), where + ": " + b.status.message());
  }

  Status write_batch(const Batch& b) {
    if (!b.status.ok()) return located(b);
    size_t start = 0;
    for (size_t end : b.token_ends) {
      std::span<const Rank> ids(b.tokens.data() + start, end - start);
      start = end;
      // A resumed llmc run: this document's first tokens are already in the last complete shard.
      const size_t drop = std::min<uint64_t>(doc_done, ids.size());
      ids = ids.subspan(drop);
      if (opt.format == ShardFormat::kLlmc) {
        do {
          if (Status s = ensure_shard(); !s.ok()) return s;
          const uint64_t room = shard_limit - shard->tokens();
          const size_t take = size_t(std::min<uint64_t>(room, ids.size()));
          const bool last = take == ids.size();
          if (Status s = shard->append(ids.first(take), last); !s.ok()) return s;
          ids = ids.subspan(take);
          tokens_written += take;
          doc_done += take;
          if (last) {
            ++docs_written;
            doc_done = 0;
          }
          if (shard->tokens() == shard_limit) {
            if (Status s = close_shard(doc_done); !s.ok()) return s;
          }
        } while (!ids.empty());
        continue;
      }
      doc_done = 0;
      if (Status s = ensure_shard(); !s.ok()) return s;
      if (Status s = shard->append(ids, true); !s.ok()) return s;
      tokens_written += ids.size();
      ++docs_written;
      if (sharded && shard->tokens() >= shard_limit) {
        if (Status s = close_shard(0); !s.ok()) return s;
      }
    }
    return Status();
  }

  // A task: encode() catches everything, so nothing reaches the group.
  void encode_task(Batch* b) {
    encode(*b);
    {
      std::lock_guard<std::mutex> lock(m);
      b->done = true;
    }
    batch_done.notify_all();
  }

  // Writes finished batches from the front, in order; with `all`, waits for every batch in flight.
  // Otherwise returns once fewer than the limit are in flight.
  Status drain(bool all) {
    const size_t limit = 2 * size_t(threads) + 2;
    while (true) {
      std::unique_ptr<Batch> ready;
      {
        std::unique_lock<std::mutex> lock(m);
        if (inflight.empty()) return Status();
        if (!inflight.front()->done) {
          if (!all && inflight.size() < limit) return Status();
          batch_done.wait(lock, [&] { return inflight.front()->done; });
        }
        ready = std::move(inflight.front());
        inflight.pop_front();
      }
      if (failed.ok()) failed = write_batch(*ready);
      recycle(std::move(ready));
    }
  }

  // Keeps the buffers unless a huge document made them much larger than a batch (memory stays bounded).
  void empty(Batch& b) const {
    if (b.text.capacity() > 4 * opt.batch_bytes + (size_t(1) << 16)) {
      b = Batch();
      return;
    }
    b.seq = 0;
    b.text.clear();
    b.ends.clear();
    b.lines.clear();
    b.sources.clear();
    b.failed_document = 0;
    b.tokens.clear();
    b.token_ends.clear();
    b.status = Status();
    b.done = false;
  }
  void recycle(std::unique_ptr<Batch> b) {
    if (spare.size() > 2 * size_t(threads) + 2) return;
    empty(*b);
    spare.push_back(std::move(b));
  }
  std::unique_ptr<Batch> take_spare() {
    if (spare.empty()) return std::make_unique<Batch>();
    std::unique_ptr<Batch> b = std::move(spare.back());
    spare.pop_back();
    return b;
  }

  Status submit() {
    if (current.ends.empty()) return failed;
    current.seq = next_seq++;
    // One encoding thread too is a worker of the pool, not this thread: reading, decompressing and parsing
    // the next batch here then overlap its encoding (inline, they were about a tenth of a one-thread run).
    if (!encoders) encoders = std::make_unique<util::TaskGroup>(threads);
    Batch* b;
    {
      std::lock_guard<std::mutex> lock(m);
      std::unique_ptr<Batch> filled = take_spare();
      std::swap(*filled, current);
      inflight.push_back(std::move(filled));
      b = inflight.back().get();
    }
    encoders->run([this, b] { encode_task(b); });
    if (Status s = drain(false); !s.ok()) return s;
    return failed;
  }

  void report(bool force) {
    if (!opt.on_progress) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && std::chrono::duration<double>(now - last_progress).count() < opt.progress_interval) return;
    last_progress = now;
    TokenizeProgress p;
    for (const auto& in : manifest.inputs) p.input_bytes += in.size;
    p.input_bytes_read = bytes_read;
    p.documents = docs_written;
    p.tokens = tokens_written;
    p.shards = manifest.shards.size();
    p.seconds = std::chrono::duration<double>(now - start).count();
    opt.on_progress(p);
  }
};

DatasetWriter::DatasetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DatasetWriter::DatasetWriter(DatasetWriter&&) noexcept = default;
DatasetWriter& DatasetWriter::operator=(DatasetWriter&&) noexcept = default;
DatasetWriter::~DatasetWriter() {
  if (impl_ && impl_->shard_open) impl_->shard->abandon();
}

namespace {

std::string options_json(const TokenizeOptions& o, std::optional<Rank> sep, uint64_t shard_limit) {
  std::string j = "{\"format\":\"" + std::string(format_name(o.format)) + "\",";
  j += "\"input_format\":\"" + std::string(document_format_name(o.input_format)) + "\",";
  j += "\"jsonl_field\":" + dataset::json_quote(o.jsonl_field) + ",";
  j += "\"separator\":\"" + std::string(separator_name(o.separator)) + "\",";
  j += "\"separator_id\":" + (sep ? std::to_string(*sep) : std::string("null")) + ",";
  j += "\"shard_tokens\":" + std::to_string(shard_limit) + ",";
  j += "\"skip_bad\":" + std::string(o.skip_bad ? "true" : "false");
  // Only when on, so manifests of runs from before the option still resume.
  if (o.add_special_tokens) j += ",\"add_special_tokens\":true";
  j += "}";
  return j;
}

Result<std::string> read_small_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status(ErrorCode::kIoError, path + ": cannot open for reading");
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return Status(ErrorCode::kIoError, path + ": read error");
  return data;
}

}  // namespace

Result<DatasetWriter> DatasetWriter::open(const Encoding& encoding, std::string tokenizer_name,
                                          std::vector<InputInfo> inputs, TokenizeOptions options) try {
  return open(DatasetTokenizer::of(encoding, std::move(tokenizer_name)), std::move(inputs), std::move(options));
} catch (...) {
  return util::exception_status("opening the dataset output");
}

Result<DatasetWriter> DatasetWriter::open(DatasetTokenizer tokenizer, std::vector<InputInfo> inputs,
                                          TokenizeOptions options) try {
  if (options.output_prefix.empty()) return Status(ErrorCode::kInvalidArgument, "no output prefix");
  auto impl = std::make_unique<Impl>(std::move(tokenizer));
  const DatasetTokenizer& encoding = impl->enc;
  Impl& w = *impl;
  w.opt = std::move(options);
  w.threads = util::resolve_threads(w.opt.threads);
  fs::path prefix(w.opt.output_prefix);
  w.dir = prefix.parent_path();
  w.stem = prefix.filename().string();
  if (w.stem.empty()) return Status(ErrorCode::kInvalidArgument, w.opt.output_prefix + ": the prefix has no file name");
  std::error_code ec;
  if (!w.dir.empty() && !fs::is_directory(w.dir, ec)) {
    return Status(ErrorCode::kIoError, w.dir.string() + ": output folder does not exist");
  }
  w.manifest_path = w.opt.output_prefix + ".manifest.json";
  w.sharded = w.opt.format == ShardFormat::kLlmc || w.opt.shard_tokens > 0;
  w.shard_limit = w.opt.shard_tokens;
  if (w.opt.format == ShardFormat::kLlmc && w.shard_limit == 0) w.shard_limit = 100000000;
  if (w.opt.separator != Separator::kNone) {
    if (!w.opt.separator_token.empty()) {
      w.sep = encoding.token_id(w.opt.separator_token);
      if (!w.sep) {
        return Status(ErrorCode::kInvalidArgument,
                      "separator token '" + w.opt.separator_token + "' is not in " + encoding.name);
      }
    } else {
      w.sep = w.opt.separator_id ? w.opt.separator_id : encoding.eot;
    }
    if (!w.sep) {
      return Status(ErrorCode::kInvalidArgument,
                    encoding.name + " has no <|endoftext|>: give a separator token or id, or no separator");
    }
    if (*w.sep >= encoding.n_vocab) {
      return Status(ErrorCode::kInvalidArgument, "separator id " + std::to_string(*w.sep) +
                                                     " is not below the vocabulary size " +
                                                     std::to_string(encoding.n_vocab));
    }
  }
  if (auto probe = dataset::make_shard_writer(w.opt.format, encoding.n_vocab); !probe.ok()) return probe.status();

  Manifest fresh;
  fresh.tokenizer_name = encoding.name;
  fresh.tokenizer_sha256 = encoding.sha256;
  fresh.n_vocab = encoding.n_vocab;
  fresh.options_json = options_json(w.opt, w.sep, w.shard_limit);
  fresh.inputs = std::move(inputs);

  if (fs::exists(w.manifest_path, ec)) {
    auto text = read_small_file(w.manifest_path);
    if (!text.ok()) return text.status();
    auto old = Manifest::parse(text.value(), w.manifest_path);
    if (!old.ok()) return old.status();
    if (!w.opt.resume) {
      // Starting over: the earlier run's shards must not outlive this one's manifest.
      for (const auto& s : old->shards) {
        for (const auto& f : s.files) fs::remove(w.dir / f.path, ec);
      }
      fs::remove(w.manifest_path, ec);
    } else {
      auto differs = [&](const std::string& what) {
        return Status(ErrorCode::kInvalidArgument,
                      w.manifest_path + ": an earlier run with different " + what +
                          " wrote this output; use another prefix, or start over (no resume)");
      };
      if (old->tokenizer_sha256 != fresh.tokenizer_sha256) return differs("tokenizer");
      if (old->options_json != fresh.options_json) return differs("options");
      bool same_inputs = old->inputs.size() == fresh.inputs.size();
      for (size_t i = 0; same_inputs && i < fresh.inputs.size(); ++i) {
        same_inputs = old->inputs[i].path == fresh.inputs[i].path && old->inputs[i].size == fresh.inputs[i].size;
      }
      if (!same_inputs) return differs("inputs (paths or sizes)");
      // Complete shards are kept only while every file still holds what the manifest says (size and
      // sha256): from the first that does not (missing, truncated, or a byte changed on disk) on, the
      // shards are written again, exactly as after a run killed at that point.
      size_t keep = 0;
      for (; keep < old->shards.size(); ++keep) {
        bool intact = true;
        for (const auto& f : old->shards[keep].files) {
          const std::string file = (w.dir / f.path).string();
          auto size = fs::file_size(file, ec);
          if (ec || size != f.bytes) {
            intact = false;
            break;
          }
          auto digest = util::sha256_file(file);
          if (!digest.ok() || *digest != f.sha256) {
            intact = false;
            break;
          }
        }
        if (!intact) break;
      }
      if (keep < old->shards.size()) {
        for (size_t i = keep; i < old->shards.size(); ++i) {
          for (const auto& f : old->shards[i].files) fs::remove(w.dir / f.path, ec);
        }
        old->shards.resize(keep);
        old->complete = false;
      }
      for (const auto& s : old->shards) {
        for (const auto& f : s.files) w.files.push_back((w.dir / f.path).string());
      }
      if (old->complete) {
        w.already_complete = true;
        w.manifest = std::move(old).value();
        w.docs_written = w.manifest.documents;
        w.tokens_written = w.manifest.tokens;
        return DatasetWriter(std::move(impl));
      }
      if (!old->shards.empty()) {
        const ShardRecord& last = old->shards.back();
        w.skip_docs = last.documents_end;
        w.doc_done = last.carry_tokens;
        w.docs_written = last.documents_end;
        for (const auto& s : old->shards) w.tokens_written += s.tokens;
        fresh.shards = old->shards;
        w.resumed_documents = w.skip_docs;
      }
    }
  }
  w.manifest = std::move(fresh);
  return DatasetWriter(std::move(impl));
} catch (...) {
  return util::exception_status("opening the dataset output");
}

bool DatasetWriter::already_complete() const { return impl_->already_complete; }
uint64_t DatasetWriter::skip_documents() const { return impl_->skip_docs; }

void DatasetWriter::begin_source(std::string name, std::function<uint64_t(uint64_t)> file_line) {
  impl_->sources.push_back({std::move(name), std::move(file_line)});
}

Status DatasetWriter::add_document(std::string_view text, bool repaired, uint64_t line) try {
  Impl& w = *impl_;
  if (w.already_complete) return Status();
  if (!w.failed.ok()) return w.failed;
  const bool valid = simdjson::validate_utf8(text.data(), text.size());
  if (!valid || repaired) ++w.manifest.repaired;
  // Documents in the kept shards are dropped; one that continues past them (llmc) is encoded again and
  // write_batch drops its first doc_done tokens.
  if (w.docs_seen++ < w.skip_docs) return Status();
  if (valid) {
    w.current.text.append(text);
  } else {
    w.current.text.append(utf8_replace_invalid(text));
  }
  w.current.ends.push_back(w.current.text.size());
  w.current.lines.push_back(line);
  w.current.sources.push_back(w.sources.empty() ? UINT32_MAX : uint32_t(w.sources.size() - 1));
  Status s;
  if (w.current.text.size() >= w.opt.batch_bytes) s = w.submit();
  w.report(false);
  return s;
} catch (...) {
  return util::exception_status([&] { return "adding a document of " + std::to_string(text.size()) + " bytes"; });
}

Status DatasetWriter::add_encoded_document(std::span<const Rank> ids) try {
  Impl& w = *impl_;
  if (w.already_complete) return Status();
  if (!w.failed.ok()) return w.failed;
  if (w.docs_seen++ < w.skip_docs) return Status();
  // Text batches still in flight come first.
  if (Status s = w.submit(); !s.ok()) return s;
  if (Status s = w.drain(true); !s.ok()) return s;
  for (Rank id : ids) {
    if (id >= w.enc.n_vocab) {
      return Status(ErrorCode::kInvalidArgument, "id " + std::to_string(id) + " of document " +
                                                     std::to_string(w.docs_seen - 1) + " is not in the vocabulary");
    }
  }
  Batch b;
  b.tokens.assign(ids.begin(), ids.end());
  b.token_ends.push_back(b.tokens.size());
  w.failed = w.write_batch(b);
  w.report(false);
  return w.failed;
} catch (...) {
  return util::exception_status([&] { return "adding an encoded document of " + std::to_string(ids.size()) + " ids"; });
}

void DatasetWriter::add_skipped(uint64_t n) { impl_->manifest.skipped += n; }
void DatasetWriter::add_repaired(uint64_t n) { impl_->manifest.repaired += n; }
void DatasetWriter::set_bytes_read(uint64_t bytes) { impl_->bytes_read = bytes; }
void DatasetWriter::finish_input(size_t index, std::string sha256) {
  if (index < impl_->manifest.inputs.size()) impl_->manifest.inputs[index].sha256 = std::move(sha256);
}

Result<TokenizeSummary> DatasetWriter::finish() try {
  Impl& w = *impl_;
  TokenizeSummary sum;
  if (!w.already_complete) {
    Status s = w.submit();
    if (s.ok()) s = w.drain(true);
    if (s.ok()) s = w.failed;
    if (!s.ok()) {
      if (w.shard_open) w.shard->abandon();
      w.shard_open = false;
      return s;
    }
    w.stop_workers();
    // The last shard; an empty output still gets one (valid, empty) shard so readers find its files.
    if (w.shard_open || w.manifest.shards.empty()) {
      if (Status e = w.ensure_shard(); !e.ok()) return e;
      if (Status e = w.close_shard(w.doc_done); !e.ok()) return e;
    }
    w.manifest.complete = true;
    if (Status e = w.write_manifest(); !e.ok()) return e;
  }
  w.report(true);
  sum.documents = w.docs_written;
  sum.tokens = w.tokens_written;
  sum.shards = w.manifest.shards.size();
  sum.skipped = w.manifest.skipped;
  sum.repaired = w.manifest.repaired;
  sum.resumed_documents = w.resumed_documents;
  sum.input_bytes_read = w.bytes_read;
  sum.already_complete = w.already_complete;
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - w.start).count();
  sum.files = w.files;
  sum.files.push_back(w.manifest_path);
  return sum;
} catch (...) {
  return util::exception_status("finishing the dataset output");
}

}  // namespace tokenmill
