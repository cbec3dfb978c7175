// include/tokenmill/status.h promises that the library never throws across its public API. Each test runs
// one entry point in a forked child whose address space is capped at what it already uses plus a little,
// with an input too large for that: the call must come back with kOutOfMemory naming what it was doing.
// An exception that escapes aborts the child, and the test sees the signal.
#include "tokenmill/status.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "test_util.h"
#include "tokenmill/chunk_table.h"
#include "tokenmill/dataset.h"
#include "tokenmill/hf_json.h"
#include "tokenmill/tekken.h"
#include "tokenmill/tokenizer.h"
#include "tokenmill/train.h"
#include "tokenmill/vocab.h"
#include "util/no_throw.h"

#if defined(__SANITIZE_ADDRESS__)
#define TOKENMILL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOKENMILL_TEST_ASAN 1
#endif
#endif

#ifdef TOKENMILL_TEST_ASAN
// AddressSanitizer reserves terabytes of address space up front and reports an allocation it cannot map
// instead of throwing, so an RLIMIT_AS cannot be used there. Under it, the child refuses (with bad_alloc, as
// a memory limit would) every single allocation larger than a cap; the big allocations these tests provoke
// are single ones.
#include "allocation_cap.h"
#endif

namespace tokenmill {
namespace {

namespace fs = std::filesystem;

// The child's verdict: 0 = the call failed with kOutOfMemory and a message containing `expect`.
int verdict(const Status& s, const std::string& expect) {
  if (s.ok()) {
    std::fprintf(stderr, "the call succeeded under the limit\n");
    return 2;
  }
  if (s.code() != ErrorCode::kOutOfMemory || s.message().find(expect) == std::string::npos) {
    std::fprintf(stderr, "code %d, message: %s (expected kOutOfMemory and '%s')\n", int(s.code()), s.message().c_str(),
                 expect.c_str());
    return 3;
  }
  return 0;
}

size_t address_space_in_use() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f == nullptr || std::fscanf(f, "%lu", &pages) != 1) std::abort();
  std::fclose(f);
  return size_t(pages) * size_t(::sysconf(_SC_PAGESIZE));
}

// Runs `call` in a child limited to its current address space plus `headroom`; `call` returns the Status
// of the entry point under test.
void expect_out_of_memory(size_t headroom, const std::string& expect, const std::function<Status()>& call) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
#ifdef TOKENMILL_TEST_ASAN
    g_allocation_cap = headroom / 4;
    ::_exit(verdict(call(), expect));
#endif
    // Large blocks from fresh mappings, and no free heap pages kept from the parent: otherwise memory the
    // parent freed would be headroom too.
    ::mallopt(M_MMAP_THRESHOLD, 64 << 10);
    ::malloc_trim(0);
    const rlim_t limit = rlim_t(address_space_in_use() + headroom);
    const struct rlimit rl = {limit, limit};
    if (::setrlimit(RLIMIT_AS, &rl) != 0) ::_exit(4);
    ::_exit(verdict(call(), expect));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_FALSE(WIFSIGNALED(status)) << "the child died of signal " << WTERMSIG(status)
                                    << " (an exception escaped the library)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's message above; expected an error naming: " << expect;
}

constexpr size_t kHeadroom = size_t(32) << 20;

// 64 MiB of short lines: encoding it needs far more than kHeadroom (ids, piece cache, parts).
const std::string& big_text() {
  static const std::string* text = [] {
    auto* t = new std::string();
    t->reserve(size_t(64) << 20);
    while (t->size() < (size_t(64) << 20)) *t += "hello world, the quick brown fox\nJumps over 123 lazy dogs\n";
    return t;
  }();
  return *text;
}

const std::vector<Rank>& many_ids() {
  static const std::vector<Rank>* ids = new std::vector<Rank>(size_t(16) << 20, Rank(15339));  // "hello"
  return *ids;
}

TEST(NoThrow, ExceptionsBecomeStatusesNamingTheOperation) {
  auto from = [](auto&& thrower) {
    try {
      thrower();
    } catch (...) {
      return util::exception_status([] { return std::string("doing x"); });
    }
    return Status();
  };
  Status oom = from([] { throw std::bad_alloc(); });
  EXPECT_EQ(oom.code(), ErrorCode::kOutOfMemory);
  EXPECT_EQ(oom.message(), "out of memory doing x");
  Status length = from([] { throw std::length_error("vector::reserve"); });
  EXPECT_EQ(length.code(), ErrorCode::kOutOfMemory);
  Status other = from([] { throw std::runtime_error("boom"); });
  EXPECT_EQ(other.code(), ErrorCode::kInternal);
  EXPECT_EQ(other.message(), "doing x: boom");
  Status thread =
      from([] { throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again)); });
  EXPECT_EQ(thread.code(), ErrorCode::kOutOfMemory);
}

TEST(OutOfMemory, EncodingEntryPointsReturnAnError) {
  const Encoding& enc = testing::builtin("cl100k_base");
  const std::string& text = big_text();
  const std::string what = "encoding " + std::to_string(text.size()) + " bytes of text with cl100k_base";
  expect_out_of_memory(kHeadroom, what, [&] { return enc.encode_ordinary(text).status(); });
  expect_out_of_memory(kHeadroom, what, [&] {
    std::vector<Rank> out;
    return enc.encode_ordinary(text, out);
  });
  expect_out_of_memory(kHeadroom, what, [&] { return enc.encode(text, SpecialSet::all()).status(); });
  expect_out_of_memory(kHeadroom, what, [&] { return enc.encode_bytes(text).status(); });
  expect_out_of_memory(kHeadroom, "encoding", [&] { return enc.encode_ordinary_parallel(text, 2).status(); });
  std::vector<std::string_view> texts = {"hello", text};
  expect_out_of_memory(kHeadroom, "text 1: out of memory " + what,
                       [&] { return enc.encode_ordinary_batch(texts, 2).status(); });
  expect_out_of_memory(kHeadroom, "text 1", [&] { return enc.encode_batch(texts).status(); });
  const std::string ids_what = "decoding " + std::to_string(many_ids().size()) + " ids with cl100k_base";
  expect_out_of_memory(kHeadroom, ids_what, [&] { return enc.decode_bytes(many_ids()).status(); });
  expect_out_of_memory(kHeadroom, ids_what, [&] { return enc.decode(many_ids()).status(); });
  std::vector<std::vector<Rank>> batch = {many_ids()};
  expect_out_of_memory(kHeadroom, "list 0", [&] { return enc.decode_bytes_batch(batch, 2).status(); });
  // Loading: the rank file's tables alone are several times the headroom given here.
  expect_out_of_memory(size_t(4) << 20, "o200k_base", [&] {
    LoadOptions options;
    options.fetch_if_missing = false;
    return Encoding::load("o200k_base", options).status();
  });
}

TEST(OutOfMemory, TokenizerEntryPointsReturnAnError) {
  // A tokenizer.json of a model trained here on random words (20,000 ids).
  auto counter = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(counter.ok()) << counter.error();
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::string word = " ";
    for (size_t n = 3 + rng() % 8; n > 0; --n) word += char('a' + rng() % 26);
    counter->add_chunk(word, 1 + rng() % 100);
  }
  TrainOptions options;
  options.vocab_size = 20000;
  auto trained = train_bpe(*counter, options);
  ASSERT_TRUE(trained.ok()) << trained.error();
  auto json = hf_tokenizer_json(trained->model, trained->merges);
  ASSERT_TRUE(json.ok()) << json.error();
  const fs::path path = fs::temp_directory_path() / ("tokenmill_status_test_" + std::to_string(::getpid()) + ".json");
  // Trailing whitespace (valid JSON) makes the file larger than any heap memory this process freed, so
  // reading it needs new address space whatever ran before.
  std::ofstream(path, std::ios::binary) << *json << std::string(size_t(48) << 20, ' ');
  expect_out_of_memory(size_t(64) << 10, path.string(), [&] { return Tokenizer::from_file(path.string()).status(); });
  auto tok = Tokenizer::from_file(path.string());
  fs::remove(path);
  ASSERT_TRUE(tok.ok()) << tok.error();
  const std::string& text = big_text();
  const std::string what = "encoding " + std::to_string(text.size()) + " bytes of text";
  expect_out_of_memory(kHeadroom, what, [&] { return tok->encode(text).status(); });
  expect_out_of_memory(kHeadroom, what, [&] { return tok->encode_ids(text).status(); });
  const std::vector<uint32_t> ids(size_t(16) << 20, 19999);  // the last merge: a token of several bytes
  expect_out_of_memory(kHeadroom, "decoding " + std::to_string(ids.size()) + " ids",
                       [&] { return tok->decode(ids).status(); });
}

TEST(OutOfMemory, TekkenEntryPointsReturnAnError) {
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    vocab += std::string(b ? "," : "") + R"({"rank":)" + std::to_string(b) + R"(,"token_bytes":")" +
             base64_encode(std::string(1, char(b))) + R"(","token_str":null})";
  }
  const std::string json = R"({"config":{"pattern":"\\p{L}+|\\s+|[^\\s\\p{L}]+","version":"v3",)"
                           R"("default_vocab_size":286,"default_num_special_tokens":30},"vocab":[)" +
                           vocab + "]}";
  auto tekken = Tekken::from_string(json);
  ASSERT_TRUE(tekken.ok()) << tekken.error();
  // Trailing whitespace (valid JSON) makes parsing need more than the headroom.
  const std::string padded = json + std::string(size_t(48) << 20, ' ');
  expect_out_of_memory(size_t(64) << 10, "big.json", [&] { return Tekken::from_string(padded, "big.json").status(); });
  const std::string& text = big_text();
  expect_out_of_memory(kHeadroom, "encoding " + std::to_string(text.size()) + " bytes of text",
                       [&] { return tekken->encode(text, true, true).status(); });
  const std::vector<uint32_t> ids(size_t(16) << 20, 'a' + 30);
  expect_out_of_memory(kHeadroom, "decoding " + std::to_string(ids.size()) + " ids",
                       [&] { return tekken->decode(ids).status(); });
}

TEST(OutOfMemory, TrainingAndChunkTablesReturnAnError) {
  auto counter = ChunkCounter::create(kGpt4Pattern);
  ASSERT_TRUE(counter.ok()) << counter.error();
  // 400,000 distinct chunks: the merge loop's copy of them (ids, pair counts, heap) is tens of MB.
  for (int i = 0; i < 400000; ++i) counter->add_chunk(" w" + std::to_string(i) + "x", 1 + i % 7);
  TrainOptions options;
  options.vocab_size = 300;
  expect_out_of_memory(size_t(2) << 20, "training a vocabulary of 300 ids",
                       [&] { return train_bpe(*counter, options).status(); });
  const fs::path path = fs::temp_directory_path() / ("tokenmill_status_test_" + std::to_string(::getpid()) + ".chunks");
  ASSERT_TRUE(write_chunk_table(*counter, path.string()).ok());
  expect_out_of_memory(size_t(2) << 20, path.string(), [&] { return read_chunk_table(path.string()).status(); });
  fs::remove(path);
}

TEST(OutOfMemory, DatasetEntryPointsReturnAnError) {
  const Encoding& enc = testing::builtin("cl100k_base");
  const fs::path dir = fs::temp_directory_path() / ("tokenmill_status_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // One 64 MiB document on one line: the reader has to hold it whole.
  const fs::path input = dir / "one_line.txt";
  {
    std::ofstream out(input, std::ios::binary);
    std::string line = big_text();
    for (char& c : line) c = c == '\n' ? ' ' : c;
    out << line << "\n";
  }
  TokenizeOptions options;
  options.output_prefix = (dir / "out").string();
  options.format = ShardFormat::kMegatron;
  expect_out_of_memory(kHeadroom, input.string(), [&] {
    std::vector<std::string> inputs = {input.string()};
    return tokenize_files(enc, "cl100k_base", inputs, options).status();
  });
  for (unsigned threads : {1u, 2u}) {
    expect_out_of_memory(kHeadroom, "out of memory", [&] {
      TokenizeOptions o = options;
      o.threads = threads;
      auto writer = DatasetWriter::open(enc, "cl100k_base", {}, o);
      if (!writer.ok()) return writer.status();
      if (Status s = writer->add_document(big_text()); !s.ok()) return s;
      return writer->finish().status();
    });
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tokenmill
