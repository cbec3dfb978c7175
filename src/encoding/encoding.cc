#include "tokenmill/encoding.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>
#include <unordered_map>

#include "tokenmill/bpe.h"
#include "tokenmill/detail/unicode_class.h"
#include "tokenmill/fetch.h"
#include "tokenmill/file_io.h"
#include "util/byte_set.h"
#include "util/no_throw.h"
#include "util/sha256.h"
#include "util/thread_pool.h"

// Performance notes: the measurements behind this file's choices (o200k unless said otherwise; en, code
// and multi are the test corpora en.txt, code.txt, multi.txt; interleaved best-of-N runs).
//
// - PieceCache, why: on en.txt (30 MB) 10% of pieces miss the vocabulary, but only 29% of those are
//   distinct, and a BPE run costs ~250 ns (a chain of dependent table lookups) against one probe for a hit.
// - PieceCache, size: on the first 30 MB of en.txt (cold cache, best-of-9) 16 MB encodes ~5% faster than
//   1 MB, as BPE runs fall from 47% to 38% of non-token pieces (29% would be every distinct piece once).
// - PieceCache entries straddling two cache lines cost ~10%; hence one aligned line per entry.
// - encode_text's pipeline lags: with lags 2 and 4 the slot read waited on memory for ~9% of all time and
//   the cache entry read for ~8% (perf, en). Best-of-5 against lags 4/6, lags 6/12 gave en +8%, code +5%,
//   multi +1%; 8/14 measured the same as 6/12.

namespace tokenmill {

namespace {

struct BuiltinEncoding {
  std::string_view name;
  std::string_view rank_file;
  std::string_view pattern;
  std::vector<std::pair<std::string, Rank>> special_tokens;
  std::optional<uint32_t> explicit_n_vocab;
};

constexpr std::string_view kEndOfText = "<|endoftext|>";

// tiktoken_ext/openai_public.py (tiktoken 0.14.0), fact for fact.
const std::vector<BuiltinEncoding>& builtins() {
  static const std::vector<BuiltinEncoding> table = [] {
    std::vector<BuiltinEncoding> t;
    t.push_back({"gpt2", "r50k_base", kR50kPattern, {{"<|endoftext|>", 50256}}, 50257});
    t.push_back({"r50k_base", "r50k_base", kR50kPattern, {{"<|endoftext|>", 50256}}, 50257});
    t.push_back({"p50k_base", "p50k_base", kR50kPattern, {{"<|endoftext|>", 50256}}, 50281});
    t.push_back({"p50k_edit", "p50k_base", kR50kPattern,
                 {{"<|endoftext|>", 50256}, {"<|fim_prefix|>", 50281}, {"<|fim_middle|>", 50282},
                  {"<|fim_suffix|>", 50283}},
                 std::nullopt});
    t.push_back({"cl100k_base", "cl100k_base", kCl100kPattern,
                 {{"<|endoftext|>", 100257}, {"<|fim_prefix|>", 100258}, {"<|fim_middle|>", 100259},
                  {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276}},
                 std::nullopt});
    t.push_back({"o200k_base", "o200k_base", kO200kPattern,
                 {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}}, std::nullopt});
    std::vector<std::pair<std::string, Rank>> harmony = {
        {"<|endoftext|>", 199999},       {"<|endofprompt|>", 200018},     {"<|startoftext|>", 199998},
        {"<|reserved_200000|>", 200000}, {"<|reserved_200001|>", 200001}, {"<|return|>", 200002},
        {"<|constrain|>", 200003},       {"<|reserved_200004|>", 200004}, {"<|channel|>", 200005},
        {"<|start|>", 200006},           {"<|end|>", 200007},             {"<|message|>", 200008},
        {"<|reserved_200009|>", 200009}, {"<|reserved_200010|>", 200010}, {"<|reserved_200011|>", 200011},
        {"<|call|>", 200012}};
    for (Rank i = 200013; i < 201088; ++i) harmony.push_back({"<|reserved_" + std::to_string(i) + "|>", i});
    t.push_back({"o200k_harmony", "o200k_base", kO200kPattern, std::move(harmony), std::nullopt});
    return t;
  }();
  return table;
}

// Output capacity for `bytes` of input. Real text averages 2.5-4.5 bytes per token (multi.txt 2.7, en.txt
// 3.9 with cl100k). From a megabyte on, room for one id per two bytes, so the output never reallocates (which
// would copy every id so far and fault in a second, larger block): memory that big is mapped lazily, so what
// is not written costs no RAM. Smaller inputs get a quarter, as most text needs, and grow if they must.
size_t initial_capacity(size_t bytes) { return bytes >= (size_t(1) << 20) ? bytes / 2 + 16 : bytes / 4 + 4; }

// What a public call was doing, for its error when it fails by an exception (util/no_throw.h).
std::string text_what(const char* doing, size_t bytes, const std::string& encoding) {
  return std::string(doing) + " " + std::to_string(bytes) + " bytes of text with " + encoding;
}
std::string batch_what(const char* doing, size_t n, const std::string& encoding) {
  return std::string(doing) + " a batch of " + std::to_string(n) + " with " + encoding;
}
std::string ids_what(size_t n, const std::string& encoding) {
  return "decoding " + std::to_string(n) + " ids with " + encoding;
}

}  // namespace

namespace {
std::atomic<size_t> piece_cache_limit{size_t(64) << 20};  // piece_cache_budget() in encoding.h
std::atomic<size_t> piece_cache_bytes{0};
}  // namespace

// Results of BPE for pieces that are not whole tokens, per thread: real text repeats its rare words, and a
// hit costs one probe instead of a BPE run (see the performance notes at the top). Keyed by the exact
// bytes and the encoding's serial number, so it can change speed but never ids. Indexed by the hash the
// token table's probe already computed, so the encoder can prefetch an entry as soon as it knows a piece
// is not a token. Two-way: a set is two adjacent lines, the newer result first; against one way it ran
// BPE 7% fewer times on the first 32 MB of en.txt (two encodes of it, cl100k), for a second prefetch.
//
// Size: a thread starts at 1 MB and grows to 4 and then 16 MB once it has stored as many results as it
// has entries, i.e. only while it encodes megabytes of text; a text of megabytes sizes it up front
// (expect()), since growing discards what the cache holds: with both, 19% fewer BPE runs than with one
// way and growth alone on those 32 MB, 6% fewer on all of en.txt (598k distinct non-token pieces there,
// more than the 262k entries). A thread that encodes a few strings keeps 1 MB. All threads' caches together stay within
// one budget, 64 MiB (a 64-thread batch would otherwise hold 1 GiB): a thread the budget refuses keeps the cache it
// has, or runs without one. The pool's workers outlive the calls they serve, so a worker gives back what it
// grew beyond 1 MB when it has done its share of a call (see parallel_for): an idle worker never holds the budget a
// later call's thread needs, and a batch of short texts keeps its workers' caches warm from call to call.
class PieceCache {
 public:
  PieceCache() = default;
  PieceCache(const PieceCache&) = delete;
  PieceCache& operator=(const PieceCache&) = delete;
  ~PieceCache() { release(); }

  static constexpr size_t kMaxBytes = 22;
  static constexpr size_t kMaxIds = 8;

  void prefetch(uint64_t hash) const {
    if (!entries_) return;
    const Entry* set = &entries_[hash & mask_ & ~size_t(1)];
    __builtin_prefetch(set);
    __builtin_prefetch(set + 1);
  }

  // Appends the cached ids and returns true on a hit.
  bool lookup(uint64_t owner, uint64_t hash, std::string_view piece, std::vector<Rank>& out) const {
    if (piece.size() > kMaxBytes || !entries_) return false;
    const Entry* set = &entries_[hash & mask_ & ~size_t(1)];
    for (int way = 0; way < 2; ++way) {
      const Entry& e = set[way];
      if (e.owner == owner && e.len == piece.size() && std::memcmp(e.bytes, piece.data(), piece.size()) == 0) {
        out.insert(out.end(), e.ids, e.ids + e.n_ids);
        return true;
      }
    }
    return false;
  }

  // Before encoding `text_bytes` of text: real text has about one distinct non-token piece per 128 bytes
  // (en.txt's first 32 MB: 217k; code.txt: 255k in 84 MB), so a text of megabytes would grow the cache
  // anyway, and each growth discards what it holds. Sizing it once, up front, keeps those results.
  void expect(size_t text_bytes) {
    size_t want = kMinEntries;
    while (want < kMaxEntries && want * 128 < text_bytes) want *= kGrowth;
    if (entries_ && mask_ + 1 >= want) return;
    if (resize(std::min(want, kMaxEntries))) stores_ = 0;
  }

  void store(uint64_t owner, uint64_t hash, std::string_view piece, const Rank* ids, size_t n_ids) {
    if (piece.size() > kMaxBytes || n_ids > kMaxIds) return;
    if (!entries_) {
      // The first store of this thread, or the budget refused one: ask again every kMinEntries stores.
      if (stores_++ % kMinEntries != 0 || !resize(kMinEntries)) return;
    } else if (++stores_ > mask_ && mask_ + 1 < kMaxEntries) {
      resize((mask_ + 1) * kGrowth);  // starts empty: results lost are recomputed as their pieces recur
      stores_ = 0;                    // if the budget refused, ask again after as many stores
    }
    Entry* set = &entries_[hash & mask_ & ~size_t(1)];
    set[1] = set[0];
    Entry& e = set[0];
    e.owner = owner;
    e.len = uint8_t(piece.size());
    e.n_ids = uint8_t(n_ids);
    std::memcpy(e.bytes, piece.data(), piece.size());
    std::copy(ids, ids + n_ids, e.ids);
  }

  // Back to at most the starting size (emptied if it was larger; the next store makes a new one).
  void trim() {
    if (!entries_ || mask_ + 1 <= kMinEntries) return;
    release();
    stores_ = 0;
  }

 private:
  static constexpr size_t kMinEntries = 16384, kMaxEntries = 262144, kGrowth = 4;

  // One cache line: a lookup is one miss at most (performance notes: straddling entries).
  struct alignas(64) Entry {
    uint64_t owner = 0;  // 0 = empty; encodings are numbered from 1
    uint8_t len = 0;
    uint8_t n_ids = 0;
    char bytes[kMaxBytes];
    Rank ids[kMaxIds];
  };
  static_assert(sizeof(Entry) == 64);
  // Within the process-wide budget, or not at all (the cache keeps its present size and contents).
  bool resize(size_t entries) {
    const size_t old_bytes = entries_ ? sizeof(Entry) * (mask_ + 1) : 0;
    const size_t new_bytes = sizeof(Entry) * entries;
    size_t in_use = piece_cache_bytes.load(std::memory_order_relaxed);
    do {
      if (in_use - old_bytes + new_bytes > piece_cache_limit.load(std::memory_order_relaxed)) return false;
    } while (
        !piece_cache_bytes.compare_exchange_weak(in_use, in_use - old_bytes + new_bytes, std::memory_order_relaxed));
    if (entries_) detail::free_table(entries_, old_bytes);  // Entry is trivial
    // Read at random: on huge pages, like the token table.
    entries_ = static_cast<Entry*>(detail::allocate_table(new_bytes));
    std::uninitialized_value_construct_n(entries_, entries);
    mask_ = entries - 1;
    return true;
  }
  void release() {
    if (!entries_) return;
    detail::free_table(entries_, sizeof(Entry) * (mask_ + 1));
    piece_cache_bytes.fetch_sub(sizeof(Entry) * (mask_ + 1), std::memory_order_relaxed);
    entries_ = nullptr;
  }

  Entry* entries_ = nullptr;
  size_t mask_ = 0;
  size_t stores_ = 0;  // since the last resize
};

thread_local PieceCache piece_cache;

namespace {

// What a pool worker runs after its share of one call: having kept its piece cache warm over the call's
// items (the parts of one long text), it gives back what they grew (see PieceCache).
const std::function<void()>* trim_worker_cache() {
  static const std::function<void()> trim = [] { piece_cache.trim(); };
  return &trim;
}

// fn(i) for i in [0, n) on up to `threads` threads of the library's pool (util/thread_pool.h); each index
// runs exactly once, so results written by index are the same whatever the thread count.
template <class Fn>
void parallel_for(size_t n, unsigned threads, Fn fn) {
  util::parallel_for(n, threads, std::ref(fn), trim_worker_cache());
}

// util::parallel_results, with the workers' caches trimmed as above.
template <class T, class Fn>
Result<std::vector<T>> parallel_results(size_t n, unsigned threads, const char* item, Fn fn) {
  return util::parallel_results<T>(n, threads, item, std::move(fn), trim_worker_cache());
}

}  // namespace

std::atomic<uint64_t> next_encoding_serial{1};

struct Encoding::Impl {
  uint64_t serial = next_encoding_serial.fetch_add(1);
  std::string name;
  Pretokenizer pretokenizer;
  Vocabulary ranks;
  std::vector<std::pair<std::string, Rank>> specials;
  std::unordered_map<std::string_view, uint32_t> special_index;  // text -> index into specials
  std::unordered_map<Rank, uint32_t> special_by_id;               // id -> first special with that id
  std::vector<size_t> special_lengths;                            // distinct, longest first
  util::ByteSet special_first_bytes;
  uint32_t n_vocab = 0;
  std::optional<Rank> eot;
  std::shared_ptr<const PieceEncoder> piece_encoder;  // null: byte_pair_encode over the ranks

  void encode_piece(std::string_view piece, std::vector<Rank>& out) const {
    encode_piece(piece, ranks.probe(piece), out);
  }

  void encode_piece(std::string_view piece, Vocabulary::Probe probe, std::vector<Rank>& out) const {
    // Whole-piece lookup first: most pieces of real text are one token, and a hash probe is far cheaper
    // than starting a merge.
    Rank r = ranks.find_probed(piece, probe);
    if (r != kNoRank) {
      out.push_back(r);
      return;
    }
    encode_non_token(piece_cache, piece, probe, out);
  }

  // A piece that is not a whole token: the piece cache, else BPE.
  void encode_non_token(PieceCache& cache, std::string_view piece, Vocabulary::Probe probe,
                        std::vector<Rank>& out) const {
    if (cache.lookup(serial, probe.hash, piece, out)) return;
    size_t before = out.size();
    if (piece_encoder) {
      piece_encoder->encode(piece, out);
    } else {
      byte_pair_encode(ranks, piece, out);
    }
    cache.store(serial, probe.hash, piece, out.data() + before, out.size() - before);
  }

  // Splits and encodes valid UTF-8 text; sets *last_count to how many tokens the last piece produced.
  // Fails only where a custom pattern's regex gives up (out then holds the ids of the pieces before).
  Status encode_text(std::string_view text, std::vector<Rank>& out, size_t* last_count = nullptr) const {
    return encode_stream([&](auto& on_piece, auto&) { return pretokenizer.for_each_piece(text, on_piece); },
                         text.size(), text.data() + text.size(), out, last_count);
  }

  // What a document marker in encode_stream's ring asks for when its turn to emit comes (see encode_documents).
  enum MarkerKind : size_t { kDocumentBegin = 0, kDocumentBytes = 1, kDocumentEnd = 2, kMarkerKinds = 4 };
  static constexpr auto kNoMarkers = [](size_t) {};

  // Encodes the pieces for_each_piece(on_piece) passes to on_piece, in order: `bytes` in all, each readable up
  // to `readable_end` as it is when the piece is passed (a caller may move it between pieces).
  //
  // for_each_piece(on_piece, mark) may also call mark(tag) between pieces: on_marker(tag) then runs when the
  // ids of every piece before it are in `out` and none after it (a marker goes through the ring like a piece).
  template <class ForEachPiece, class OnMarker = std::remove_const_t<decltype(kNoMarkers)>>
  Status encode_stream(ForEachPiece&& for_each_piece, size_t bytes, const char* const& readable_end,
                       std::vector<Rank>& out, size_t* last_count = nullptr,
                       const OnMarker& on_marker = kNoMarkers) const {
    constexpr bool kMarkers = !std::is_same_v<OnMarker, std::remove_const_t<decltype(kNoMarkers)>>;
    // Software pipelining over the stream of pieces, so the splitter's work hides memory latency (the
    // token table is 6 MB for cl100k, 12 MB for o200k, the piece cache up to 16 MB: first touches miss L2):
    //   piece i:      probe the token table (prefetches its slot);
    //   piece i - 6:  read that slot; if the piece is not a token, prefetch its piece-cache entry;
    //   piece i - 12: emit its ids (the token, or the cached ids, or BPE).
    // The lags are measured (performance notes at the top of this file).
    constexpr size_t kResolveLag = 6, kEmitLag = 12, kRing = 16;
    struct Pending {
      std::string_view piece;
      Vocabulary::Probe probe;
      Rank rank;
    };
    Pending ring[kRing];
    PieceCache& cache = piece_cache;  // one thread-local lookup per call, not per piece
    if (bytes > (size_t(1) << 20)) cache.expect(bytes);
    size_t seen = 0, last = 0;
    auto resolve = [&](Pending& p) {
      p.rank = ranks.find_probed(p.piece, p.probe);
      if (p.rank == kNoRank) cache.prefetch(p.probe.hash);
    };
    auto emit = [&](const Pending& p) {
      if constexpr (kMarkers) {
        if (p.piece.data() == nullptr) {  // a marker: its tag is the size
          on_marker(p.piece.size());
          return;
        }
      }
      const size_t before = out.size();
      if (p.rank != kNoRank) {
        out.push_back(p.rank);
      } else {
        encode_non_token(cache, p.piece, p.probe, out);
      }
      last = out.size() - before;
    };
    // After a slot is filled: the pieces that lag behind it take their next step.
    auto advance = [&] {
      if (seen >= kResolveLag) resolve(ring[(seen - kResolveLag) % kRing]);
      if (seen >= kEmitLag) emit(ring[(seen - kEmitLag) % kRing]);
      ++seen;
    };
    auto on_piece = [&](std::string_view piece) {
      // Field by field: building a Pending and copying it made the compiler store it in 8-byte parts
      // and reload it in 16-byte parts, a store-forwarding stall on every piece.
      Pending& slot = ring[seen % kRing];
      slot.piece = piece;
      slot.probe = ranks.probe(piece, readable_end);
      slot.rank = kNoRank;
      advance();
    };
    // A marker's probe is kAbsent, so resolving it reads no table (and prefetches a harmless cache line).
    auto mark = [&](size_t tag) {
      Pending& slot = ring[seen % kRing];
      slot.piece = std::string_view(nullptr, tag);
      slot.probe = Vocabulary::Probe{0, Vocabulary::kAbsent};
      slot.rank = kNoRank;
      advance();
    };
    Status split = for_each_piece(on_piece, mark);
    for (size_t i = seen > kResolveLag ? seen - kResolveLag : 0; i < seen; ++i) resolve(ring[i % kRing]);
    for (size_t i = seen > kEmitLag ? seen - kEmitLag : 0; i < seen; ++i) emit(ring[i % kRing]);
    if (last_count != nullptr) *last_count = last;
    return split;
  }

  // encode_ordinary of documents doc_at(0), ..., doc_at(count - 1) (`bytes` in all) in one pipelined pass, each
  // between begin_token and end_token (unless kNoRank); out.size() is appended to token_ends after each.
  // `shared_end`: where all documents may be read up to (one buffer), or nullptr: each to its own end.
  template <class DocAt>
  Status encode_documents(size_t count, DocAt doc_at, size_t bytes, const char* shared_end, std::vector<Rank>& out,
                          std::vector<size_t>& token_ends, Rank begin_token, Rank end_token) const {
    Status bytes_error;  // a custom pattern's regex gave up on a document that is not UTF-8
    auto on_marker = [&](size_t tag) {
      if (!bytes_error.ok()) return;  // nothing after the failed document
      const size_t i = tag / kMarkerKinds;
      switch (tag % kMarkerKinds) {
        case kDocumentBegin:
          if (begin_token != kNoRank) out.push_back(begin_token);
          break;
        case kDocumentBytes: {  // not UTF-8: tiktoken's _encode_bytes, outside the pipeline (rare)
          auto ids = encode_bytes(doc_at(i));
          if (!ids.ok()) {
            bytes_error = ids.status();
            return;
          }
          out.insert(out.end(), ids->begin(), ids->end());
          break;
        }
        default:
          if (end_token != kNoRank) out.push_back(end_token);
          token_ends.push_back(out.size());
      }
    };
    const char* readable_end = shared_end;  // encode_stream reads it as each piece arrives
    Status split = encode_stream(
        [&](auto& on_piece, auto& mark) {
          for (size_t i = 0; i < count && bytes_error.ok(); ++i) {
            const std::string_view doc = doc_at(i);
            if (shared_end == nullptr) readable_end = doc.data() + doc.size();
            mark(i * kMarkerKinds + kDocumentBegin);
            if (is_valid_utf8(doc)) {
              // A custom pattern's regex can give up: the documents before this one are complete in out.
              if (Status s = pretokenizer.for_each_piece(doc, on_piece); !s.ok()) return s;
            } else {
              mark(i * kMarkerKinds + kDocumentBytes);
            }
            mark(i * kMarkerKinds + kDocumentEnd);
          }
          return Status();
        },
        bytes, readable_end, out, nullptr, on_marker);
    return split.ok() ? bytes_error : split;
  }

  // Leftmost special token at or after `from` whose index passes `accept`; longest if several start at
  // the same place. Returns the index into specials, or -1.
  template <class Accept>
  int64_t find_special(std::string_view text, size_t from, size_t* at, Accept accept) const {
    if (specials.empty()) return -1;
    for (size_t i = special_first_bytes.next(text, from); i < text.size(); i = special_first_bytes.next(text, i + 1)) {
      for (size_t len : special_lengths) {
        if (i + len > text.size()) continue;
        auto it = special_index.find(text.substr(i, len));
        if (it != special_index.end() && accept(it->second)) {
          *at = i;
          return it->second;
        }
      }
    }
    return -1;
  }

  std::vector<char> resolve(const SpecialSet& set) const {
    std::vector<char> mask(specials.size(), set.all_tokens ? 1 : 0);
    if (!set.all_tokens) {
      for (const auto& t : set.tokens) {
        auto it = special_index.find(t);
        if (it != special_index.end()) mask[it->second] = 1;
      }
    }
    return mask;
  }

  bool is_all_space(Rank id) const {
    if (!ranks.contains_rank(id)) return false;
    for (char c : ranks.token_bytes(id)) {
      if (c != ' ' && c != '\n' && c != '\t') return false;
    }
    return true;
  }

  Result<std::vector<Rank>> encode_bytes(std::string_view bytes) const {
    const size_t valid = detail::valid_utf8_prefix(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    std::vector<Rank> tokens;
    size_t last = 0;
    if (Status s = encode_text(bytes.substr(0, valid), tokens, &last); !s.ok()) return s;
    if (valid == bytes.size()) return tokens;
    // tiktoken's _encode_bytes: regex splitting needs text, so the invalid tail joins the last piece
    // (widened over trailing all-whitespace tokens, whose split could move) and that is BPE-encoded whole.
    if (last > 0 && is_all_space(tokens[tokens.size() - last])) {
      while (last < tokens.size() && is_all_space(tokens[tokens.size() - last - 1])) ++last;
    }
    std::string unstable;
    if (!tokens.empty() && last > 0) {
      for (size_t i = tokens.size() - last; i < tokens.size(); ++i) unstable += ranks.token_bytes(tokens[i]);
      tokens.resize(tokens.size() - last);
    }
    unstable.append(bytes.substr(valid));
    encode_piece(unstable, tokens);
    return tokens;
  }

  bool is_valid_utf8(std::string_view text) const {
    return detail::valid_utf8_prefix(reinterpret_cast<const unsigned char*>(text.data()), text.size()) == text.size();
  }
};

Result<Encoding> Encoding::create(EncodingSpec spec) {
  // The tables are the library's largest allocations (o200k: ~15 MB).
  const std::string name = spec.name;
  try {
    return create_tables(std::move(spec));
  } catch (...) {
    return util::exception_status([&] { return "building the tables of the encoding " + name; });
  }
}

Result<Encoding> Encoding::create_tables(EncodingSpec spec) {
  auto impl = std::make_shared<Impl>();
  impl->name = spec.name;
  if (spec.pretokenizer) {
    impl->pretokenizer = std::move(*spec.pretokenizer);
  } else {
    auto pre = Pretokenizer::create(spec.pattern);
    if (!pre.ok()) return Status(pre.status().code(), spec.name + ": " + pre.error());
    impl->pretokenizer = std::move(pre).value();
  }
  impl->ranks = std::move(spec.ranks);
  if (impl->ranks.size() == 0) return Status(ErrorCode::kInvalidArgument, spec.name + ": empty vocabulary");
  impl->piece_encoder = std::move(spec.piece_encoder);
  for (int b = 0; b < 256 && !impl->piece_encoder; ++b) {
    char c = char(b);
    if (impl->ranks.find_or_none(std::string_view(&c, 1)) == kNoRank) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", b);
      return Status(ErrorCode::kInvalidArgument,
                    spec.name + ": vocabulary has no token for byte " + hex +
                        "; byte-level BPE needs all 256 single bytes to encode any input");
    }
  }
  impl->specials = std::move(spec.special_tokens);
  Rank max_id = impl->ranks.rank_limit() - 1;
  for (uint32_t i = 0; i < impl->specials.size(); ++i) {
    const auto& [text, id] = impl->specials[i];
    if (text.empty()) return Status(ErrorCode::kInvalidArgument, spec.name + ": empty special token");
    if (id == kNoRank) {  // the value every table uses for "no token": an id no encoding can hand out
      return Status(ErrorCode::kInvalidArgument, spec.name + ": special token '" + text + "' has id " +
                                                     std::to_string(id) + "; ids must be below " +
                                                     std::to_string(kNoRank));
    }
    if (impl->ranks.contains_rank(id)) {
      return Status(ErrorCode::kInvalidArgument, spec.name + ": special token '" + text + "' has id " +
                                                     std::to_string(id) + ", which is already an ordinary token");
    }
    if (!impl->special_index.emplace(text, i).second) {
      return Status(ErrorCode::kInvalidArgument, spec.name + ": special token '" + text + "' listed twice");
    }
    impl->special_by_id.emplace(id, i);
    max_id = std::max(max_id, id);
    impl->special_first_bytes.insert(uint8_t(text[0]));
    if (std::find(impl->special_lengths.begin(), impl->special_lengths.end(), text.size()) ==
        impl->special_lengths.end()) {
      impl->special_lengths.push_back(text.size());
    }
    if (text == kEndOfText) impl->eot = id;
  }
  std::sort(impl->special_lengths.rbegin(), impl->special_lengths.rend());
  for (Rank r = 0; r < impl->ranks.rank_limit() && !impl->piece_encoder; ++r) {
    if (!impl->ranks.contains_rank(r) && !impl->special_by_id.count(r)) {
      return Status(ErrorCode::kInvalidArgument, spec.name + ": rank " + std::to_string(r) + " is missing from " +
                                                     impl->ranks.source() + " and no special token has that id");
    }
  }
  impl->n_vocab = max_id + 1;
  if (spec.explicit_n_vocab) {
    if (impl->ranks.size() + impl->specials.size() != *spec.explicit_n_vocab || impl->n_vocab != *spec.explicit_n_vocab) {
      return Status(ErrorCode::kInvalidArgument,
                    spec.name + ": explicit_n_vocab " + std::to_string(*spec.explicit_n_vocab) + " but " +
                        std::to_string(impl->ranks.size()) + " ranks + " + std::to_string(impl->specials.size()) +
                        " special tokens, max id " + std::to_string(max_id));
    }
  }
  return Encoding(std::move(impl));
}

Result<Encoding> Encoding::load(std::string_view name, const LoadOptions& options) try {
  const BuiltinEncoding* found = nullptr;
  for (const auto& b : builtins()) {
    if (b.name == name) found = &b;
  }
  if (!found) {
    std::string known;
    for (const auto& b : builtins()) known += (known.empty() ? "" : ", ") + std::string(b.name);
    return Status(ErrorCode::kNotFound, "unknown encoding '" + std::string(name) + "' (known: " + known + ")");
  }
  FetchOptions fetch;
  fetch.cache_dir = options.cache_dir;
  auto path = rank_file_path(found->rank_file, fetch, options.fetch_if_missing);
  if (!path.ok()) return path.status();
  // Verify the cached file on every load, as tiktoken does: a corrupted or hand-edited cache must not
  // silently give different ids. (sha256 of 2-4 MB costs a few milliseconds.)
  auto read = read_file(*path, kMaxRankFileBytes, "rank file");
  if (!read.ok()) return read.status();
  const std::string& contents = *read;
  for (const auto& info : known_rank_files()) {
    if (info.name == found->rank_file && util::sha256_hex(contents) != info.sha256) {
      return Status(ErrorCode::kIntegrityError, *path + ": sha256 does not match tiktoken's for " +
                                                    std::string(info.name) + "; delete it and run: tokenmill fetch " +
                                                    std::string(found->name));
    }
  }
  auto ranks = Vocabulary::parse_tiktoken(contents, *path);
  if (!ranks.ok()) return ranks.status();
  EncodingSpec spec;
  spec.name = std::string(found->name);
  spec.pattern = std::string(found->pattern);
  spec.ranks = std::move(ranks).value();
  spec.special_tokens = found->special_tokens;
  spec.explicit_n_vocab = found->explicit_n_vocab;
  return create(std::move(spec));
} catch (...) {
  return util::exception_status([&] { return "loading the encoding " + std::string(name); });
}

std::vector<std::string> Encoding::builtin_names() {
  std::vector<std::string> names;
  for (const auto& b : builtins()) names.emplace_back(b.name);
  return names;
}

std::optional<std::string> Encoding::encoding_name_for_model(std::string_view model) {
  // tiktoken/model.py: exact names first, then prefixes in this order.
  static const std::pair<std::string_view, std::string_view> kExact[] = {
      {"o1", "o200k_base"}, {"o3", "o200k_base"}, {"o4-mini", "o200k_base"}, {"gpt-5", "o200k_base"},
      {"gpt-4.1", "o200k_base"}, {"gpt-4o", "o200k_base"}, {"gpt-4", "cl100k_base"},
      {"gpt-3.5-turbo", "cl100k_base"}, {"gpt-3.5", "cl100k_base"}, {"gpt-35-turbo", "cl100k_base"},
      {"davinci-002", "cl100k_base"}, {"babbage-002", "cl100k_base"}, {"text-embedding-ada-002", "cl100k_base"},
      {"text-embedding-3-small", "cl100k_base"}, {"text-embedding-3-large", "cl100k_base"},
      {"text-davinci-003", "p50k_base"}, {"text-davinci-002", "p50k_base"}, {"text-davinci-001", "r50k_base"},
      {"text-curie-001", "r50k_base"}, {"text-babbage-001", "r50k_base"}, {"text-ada-001", "r50k_base"},
      {"davinci", "r50k_base"}, {"curie", "r50k_base"}, {"babbage", "r50k_base"}, {"ada", "r50k_base"},
      {"code-davinci-002", "p50k_base"}, {"code-davinci-001", "p50k_base"}, {"code-cushman-002", "p50k_base"},
      {"code-cushman-001", "p50k_base"}, {"davinci-codex", "p50k_base"}, {"cushman-codex", "p50k_base"},
      {"text-davinci-edit-001", "p50k_edit"}, {"code-davinci-edit-001", "p50k_edit"},
      {"text-similarity-davinci-001", "r50k_base"}, {"text-similarity-curie-001", "r50k_base"},
      {"text-similarity-babbage-001", "r50k_base"}, {"text-similarity-ada-001", "r50k_base"},
      {"text-search-davinci-doc-001", "r50k_base"}, {"text-search-curie-doc-001", "r50k_base"},
      {"text-search-babbage-doc-001", "r50k_base"}, {"text-search-ada-doc-001", "r50k_base"},
      {"code-search-babbage-code-001", "r50k_base"}, {"code-search-ada-code-001", "r50k_base"},
      {"gpt2", "gpt2"}, {"gpt-2", "gpt2"}};
  static const std::pair<std::string_view, std::string_view> kPrefix[] = {
      {"o1-", "o200k_base"}, {"o3-", "o200k_base"}, {"o4-mini-", "o200k_base"}, {"gpt-5", "o200k_base"},
      {"gpt-4.5-", "o200k_base"}, {"gpt-4.1-", "o200k_base"}, {"chatgpt-4o-", "o200k_base"},
      {"gpt-4o-", "o200k_base"}, {"gpt-4-", "cl100k_base"}, {"gpt-3.5-turbo-", "cl100k_base"},
      {"gpt-35-turbo-", "cl100k_base"}, {"gpt-oss-", "o200k_harmony"}, {"ft:gpt-4o", "o200k_base"},
      {"ft:gpt-4", "cl100k_base"}, {"ft:gpt-3.5-turbo", "cl100k_base"}, {"ft:davinci-002", "cl100k_base"},
      {"ft:babbage-002", "cl100k_base"}};
  for (const auto& [m, e] : kExact) {
    if (m == model) return std::string(e);
  }
  for (const auto& [p, e] : kPrefix) {
    if (model.substr(0, p.size()) == p) return std::string(e);
  }
  return std::nullopt;
}

Status Encoding::encode_ordinary(std::string_view text, std::vector<Rank>& out) const try {
  if (impl_->is_valid_utf8(text)) return impl_->encode_text(text, out);
  auto ids = impl_->encode_bytes(text);
  if (!ids.ok()) return ids.status();
  out.insert(out.end(), ids->begin(), ids->end());
  return Status();
} catch (...) {
  return util::exception_status([&] { return text_what("encoding", text.size(), impl_->name); });
}

Status Encoding::encode_pieces(std::span<const std::string_view> pieces, const char* readable_end,
                               std::vector<Rank>& out) const try {
  size_t bytes = 0;
  for (std::string_view p : pieces) bytes += p.size();
  return impl_->encode_stream(
      [&](auto& on_piece, auto&) {
        for (std::string_view p : pieces) {
          if (!p.empty()) on_piece(p);
        }
        return Status();
      },
      bytes, readable_end, out);
} catch (...) {
  return util::exception_status(
      [&] { return "encoding " + std::to_string(pieces.size()) + " pieces with " + impl_->name; });
}

Result<std::vector<Rank>> Encoding::encode_ordinary(std::string_view text) const try {
  std::vector<Rank> out;
  out.reserve(initial_capacity(text.size()));
  if (Status s = encode_ordinary(text, out); !s.ok()) return s;
  return out;
} catch (...) {
  return util::exception_status([&] { return text_what("encoding", text.size(), impl_->name); });
}

Result<std::vector<Rank>> Encoding::encode_bytes(std::string_view bytes) const try {
  return impl_->encode_bytes(bytes);
} catch (...) {
  return util::exception_status([&] { return text_what("encoding", bytes.size(), impl_->name); });
}

Result<std::vector<Rank>> Encoding::encode(std::string_view text, const SpecialSet& allowed,
                                           const SpecialSet& disallowed) const try {
  const Impl& im = *impl_;
  std::vector<char> allow = im.resolve(allowed);
  std::vector<char> deny;
  if (disallowed.all_tokens) {
    deny.resize(im.specials.size());
    for (size_t i = 0; i < deny.size(); ++i) deny[i] = !allow[i];
  } else {
    deny = im.resolve(disallowed);
  }
  // Like tiktoken, a disallowed string need not be a special token of this encoding: callers list markup
  // such as <|im_start|> to refuse it in user text.
  std::vector<std::string_view> extra;
  if (!disallowed.all_tokens) {
    for (const auto& t : disallowed.tokens) {
      if (!t.empty() && !im.special_index.count(t)) extra.push_back(t);
    }
  }
  if (std::find(deny.begin(), deny.end(), 1) != deny.end() || !extra.empty()) {
    size_t at = text.size();
    std::string_view token;
    int64_t hit = im.find_special(text, 0, &at, [&](uint32_t i) { return deny[i] != 0; });
    if (hit >= 0) token = im.specials[size_t(hit)].first;
    for (std::string_view e : extra) {
      size_t pos = text.find(e);
      if (pos != std::string_view::npos && (pos < at || (pos == at && e.size() > token.size()))) {
        at = pos;
        token = e;
      }
    }
    if (!token.empty()) {
      const std::string t(token);
      return Status(ErrorCode::kDisallowedSpecial,
                    "Encountered text corresponding to disallowed special token '" + t + "' at byte " +
                        std::to_string(at) + ".\nIf you want this text to be encoded as a special token, allow it "
                        "(tiktoken: allowed_special={'" + t + "', ...}; CLI: --allowed-special '" + t +
                        "').\nIf you want it encoded as normal text, disable the check for it (disallowed_special=()).");
    }
  }
  if (!im.is_valid_utf8(text)) {
    return Status(ErrorCode::kInvalidArgument, "encode: text is not valid UTF-8 (use encode_bytes)");
  }
  std::vector<Rank> out;
  out.reserve(initial_capacity(text.size()));
  const bool any_allowed = std::find(allow.begin(), allow.end(), 1) != allow.end();
  size_t start = 0;
  while (true) {
    size_t at = text.size();
    int64_t hit = any_allowed ? im.find_special(text, start, &at, [&](uint32_t i) { return allow[i] != 0; }) : -1;
    if (hit < 0) at = text.size();
    // `$` in the pattern means the end of this segment, as in tiktoken (it splits each segment alone).
    if (Status s = im.encode_text(text.substr(start, at - start), out); !s.ok()) return s;
    if (hit < 0) break;
    out.push_back(im.specials[size_t(hit)].second);
    start = at + im.specials[size_t(hit)].first.size();
  }
  return out;
} catch (...) {
  return util::exception_status([&] { return text_what("encoding", text.size(), impl_->name); });
}

Status Encoding::encode_ordinary_documents(std::string_view text, std::span<const size_t> ends, std::vector<Rank>& out,
                                           std::vector<size_t>& token_ends, Rank begin_token, Rank end_token) const
    try {
  size_t start = 0;
  for (size_t end : ends) {
    if (end < start || end > text.size()) {
      return Status(ErrorCode::kInvalidArgument, "document end " + std::to_string(end) + " is not within " +
                                                     std::to_string(start) + ".." + std::to_string(text.size()));
    }
    start = end;
  }
  return impl_->encode_documents(
      ends.size(),
      [&](size_t i) {
        const size_t from = i == 0 ? 0 : ends[i - 1];
        return text.substr(from, ends[i] - from);
      },
      text.size(), text.data() + text.size(), out, token_ends, begin_token, end_token);
} catch (...) {
  return util::exception_status([&] { return batch_what("encoding", ends.size(), impl_->name) + " (documents)"; });
}

Result<std::vector<std::vector<Rank>>> Encoding::encode_ordinary_batch(std::span<const std::string_view> texts,
                                                                       unsigned threads) const try {
  // Consecutive short texts are encoded in groups, each in one pipelined pass (Impl::encode_documents), so the
  // lookups of one text's last pieces overlap the next text's splitting; a text of a group's size or more
  // is a group of its own and is encoded straight into its result.
  constexpr size_t kGroupBytes = size_t(1) << 16, kGroupTexts = 1024;
  std::vector<size_t> group_starts;  // group g holds texts [group_starts[g], group_starts[g + 1])
  size_t group_bytes = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (group_starts.empty() || group_bytes + texts[i].size() > kGroupBytes || i - group_starts.back() >= kGroupTexts) {
      group_starts.push_back(i);
      group_bytes = 0;
    }
    group_bytes += texts[i].size();
  }
  group_starts.push_back(texts.size());
  std::vector<std::vector<Rank>> results(texts.size());
  util::FirstFailure failure(texts.size());
  parallel_for(group_starts.size() - 1, threads, [&](size_t g) {
    const size_t first = group_starts[g], count = group_starts[g + 1] - first;
    size_t bytes = 0;
    for (size_t i = first; i < first + count; ++i) bytes += texts[i].size();
    try {
      if (count == 1) {
        results[first].reserve(initial_capacity(texts[first].size()));
        if (Status s = encode_ordinary(texts[first], results[first]); !s.ok()) failure.record(first, std::move(s));
        return;
      }
      std::vector<Rank> ids;
      std::vector<size_t> ends;
      ids.reserve(bytes / 4 + count);
      // Each text is readable only to its own end.
      Status s = impl_->encode_documents(
          count, [&](size_t i) { return texts[first + i]; }, bytes, nullptr, ids, ends, kNoRank, kNoRank);
      for (size_t k = 0; k < ends.size(); ++k) {
        results[first + k].assign(ids.begin() + (k == 0 ? 0 : ends[k - 1]), ids.begin() + ends[k]);
      }
      if (!s.ok()) failure.record(first + ends.size(), std::move(s));
    } catch (...) {
      failure.record(first, util::current_exception_status(text_what("encoding", bytes, impl_->name)));
    }
  });
  if (failure.failed()) return failure.named("text");
  return results;
} catch (...) {
  return util::exception_status([&] { return batch_what("encoding", texts.size(), impl_->name); });
}

Result<std::vector<std::vector<Rank>>> Encoding::encode_batch(std::span<const std::string_view> texts,
                                                              const SpecialSet& allowed, const SpecialSet& disallowed,
                                                              unsigned threads) const try {
  return parallel_results<std::vector<Rank>>(texts.size(), threads, "text",
                                             [&](size_t i) { return encode(texts[i], allowed, disallowed); });
} catch (...) {
  return util::exception_status([&] { return batch_what("encoding", texts.size(), impl_->name); });
}

Result<std::vector<Rank>> Encoding::encode_ordinary_parallel(std::string_view text, unsigned threads) const try {
  // Parts of at least 1 MiB: below that, handing a part to a worker and its piece cache's misses on a
  // text it has not seen cost more than they save.
  // Up to 4 parts per thread, taken from a shared counter, so a part that encodes slowly (many BPE runs)
  // does not leave the other threads idle.
  constexpr size_t kMinPart = size_t(1) << 20;
  threads = util::resolve_threads(threads);
  const size_t want = std::min<size_t>(size_t(threads) * 4, text.size() / kMinPart);
  if (threads <= 1 || want <= 1 || !impl_->is_valid_utf8(text)) return encode_ordinary(text);
  std::vector<size_t> cuts{0};
  for (size_t k = 1; k < want; ++k) {
    const size_t target = std::max(text.size() / want * k, cuts.back() + kMinPart);
    if (target >= text.size()) break;
    const size_t c = impl_->pretokenizer.find_cut(text, target, text.size());
    if (c == std::string_view::npos) break;
    if (text.size() - c >= kMinPart) cuts.push_back(c);
  }
  cuts.push_back(text.size());
  const size_t parts = cuts.size() - 1;
  if (parts == 1) return encode_ordinary(text);
  // Only built-in patterns have cuts, and their scanners never fail; the status is checked all the same.
  // Each part is encoded into a vector of its thread's own and moved into place once: encoding straight
  // into out[i] made every push_back write an end pointer into a cache line that out[i + 1]'s thread also
  // writes, ~40% more CPU on 2 threads (32 MB of en.txt, cl100k: 0.45-0.52 CPU-s against 0.32-0.34).
  auto encoded = parallel_results<std::vector<Rank>>(parts, threads, "encoding part", [&](size_t i) {
    const std::string_view part = text.substr(cuts[i], cuts[i + 1] - cuts[i]);
    std::vector<Rank> ids;
    ids.reserve(initial_capacity(part.size()));
    Status s = impl_->encode_text(part, ids);
    return s.ok() ? Result<std::vector<Rank>>(std::move(ids)) : Result<std::vector<Rank>>(std::move(s));
  });
  if (!encoded.ok()) return encoded.status();
  std::vector<std::vector<Rank>>& out = *encoded;
  size_t total = 0;
  for (const auto& ids : out) total += ids.size();
  std::vector<Rank> ids;
  ids.reserve(total);
  for (auto& part : out) {
    ids.insert(ids.end(), part.begin(), part.end());
    std::vector<Rank>().swap(part);  // release each part as soon as it is copied
  }
  return ids;
} catch (...) {
  return util::exception_status([&] { return text_what("encoding", text.size(), impl_->name); });
}

size_t piece_cache_budget() { return piece_cache_limit.load(); }
void set_piece_cache_budget(size_t bytes) { piece_cache_limit.store(bytes); }
size_t piece_cache_bytes_in_use() { return piece_cache_bytes.load(); }

Result<size_t> Encoding::count(std::string_view text) const try {
  if (!impl_->is_valid_utf8(text)) {
    auto ids = impl_->encode_bytes(text);
    if (!ids.ok()) return ids.status();
    return ids->size();
  }
  // encode_text's pipeline, into a buffer that is counted and emptied as it fills: the count needs no
  // memory of the text's size, and runs as fast as the encode (a loop of its own, one piece of lag, ran
  // ~20% slower: 0.38-0.45 against 0.31-0.32 CPU-s on 32 MB of en.txt with cl100k).
  constexpr size_t kFlushAt = size_t(1) << 15;
  std::vector<Rank> ids;
  ids.reserve(kFlushAt + 4096);
  size_t n = 0;
  Status split = impl_->encode_stream(
      [&](auto& on_piece, auto&) {
        return impl_->pretokenizer.for_each_piece(text, [&](std::string_view piece) {
          on_piece(piece);
          if (ids.size() >= kFlushAt) {
            n += ids.size();
            ids.clear();
          }
        });
      },
      text.size(), text.data() + text.size(), ids);
  if (!split.ok()) return split;
  return n + ids.size();
} catch (...) {
  return util::exception_status([&] { return text_what("counting the tokens of", text.size(), impl_->name); });
}

Result<std::string> Encoding::decode_bytes(std::span<const Rank> ids) const try {
  std::string out;
  out.reserve(ids.size() * 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    Rank id = ids[i];
    if (impl_->ranks.contains_rank(id)) {
      out += impl_->ranks.token_bytes(id);
      continue;
    }
    auto it = impl_->special_by_id.find(id);
    if (it == impl_->special_by_id.end()) {
      return Status(ErrorCode::kUnknownToken, "invalid token id " + std::to_string(id) + " at position " +
                                                  std::to_string(i) + " (" + impl_->name + " has ids 0.." +
                                                  std::to_string(impl_->n_vocab - 1) + ")");
    }
    out += impl_->specials[it->second].first;
  }
  return out;
} catch (...) {
  return util::exception_status([&] { return ids_what(ids.size(), impl_->name); });
}

Result<std::vector<std::string>> Encoding::decode_bytes_batch(std::span<const std::vector<Rank>> batch,
                                                              unsigned threads) const try {
  return parallel_results<std::string>(batch.size(), threads, "list", [&](size_t i) { return decode_bytes(batch[i]); });
} catch (...) {
  return util::exception_status([&] { return batch_what("decoding", batch.size(), impl_->name); });
}

Result<std::string> Encoding::decode(std::span<const Rank> ids) const try {
  auto bytes = decode_bytes(ids);
  if (!bytes.ok()) return bytes;
  return utf8_replace_invalid(*bytes);
} catch (...) {
  return util::exception_status([&] { return ids_what(ids.size(), impl_->name); });
}

Result<std::string> Encoding::decode_single_token_bytes(Rank id) const {
  return decode_bytes(std::span<const Rank>(&id, 1));
}

Result<Rank> Encoding::encode_single_token(std::string_view token_bytes) const try {
  Rank r = impl_->ranks.find_or_none(token_bytes);
  if (r != kNoRank) return r;
  auto it = impl_->special_index.find(token_bytes);
  if (it != impl_->special_index.end()) return impl_->specials[it->second].second;
  // Appended, not `"'" + std::string(...)`: GCC 12 warns -Wrestrict (a false positive) on that.
  std::string msg = "'";
  msg += token_bytes;
  msg += "' is not a single token of " + impl_->name;
  return Status(ErrorCode::kUnknownToken, msg);
} catch (...) {
  return util::exception_status([&] { return text_what("looking up a token of", token_bytes.size(), impl_->name); });
}

bool Encoding::is_special_token(Rank id) const { return impl_->special_by_id.count(id) != 0; }
const std::string& Encoding::name() const { return impl_->name; }
const std::string& Encoding::pattern() const { return impl_->pretokenizer.pattern(); }
const Pretokenizer& Encoding::pretokenizer() const { return impl_->pretokenizer; }
const Vocabulary& Encoding::ranks() const { return impl_->ranks; }
uint32_t Encoding::n_vocab() const { return impl_->n_vocab; }
std::optional<Rank> Encoding::eot_token() const { return impl_->eot; }
const std::vector<std::pair<std::string, Rank>>& Encoding::special_tokens() const { return impl_->specials; }

std::string utf8_replace_invalid(std::string_view bytes) {
  // Python's "replace" handler: each maximal invalid subpart (a lead byte followed by the continuation
  // bytes that were still acceptable for it) becomes one U+FFFD; a byte that cannot start a sequence is
  // replaced alone.
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    if (b < 0x80) {
      out += char(b);
      ++i;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // acceptable range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    while (k < need && i + k < n) {
      unsigned char c = p[i + k];
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
      ++k;
    }
    if (k == need) {
      out.append(bytes.substr(i, need));
    } else {
      out += kReplacement;
    }
    i += k;
  }
  return out;
}

}  // namespace tokenmill
