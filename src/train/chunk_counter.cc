// Stage 1 of training: documents -> chunks -> a table of distinct chunks with 64-bit counts.
//
// Real corpora repeat a small set of chunks millions of times (en.txt: ~30M chunks, ~1% distinct), so
// the table is built for hits: each slot holds the first 8 bytes of its chunk (as Vocabulary does), so
// for chunks of up to 8 bytes (most of them) a hit is decided inside the slot, without touching the
// arena. Misses copy the chunk into an append-only arena, so the table owns its keys and the input
// block can be reused: memory is bounded by the distinct chunks, not the corpus.
#include <cstring>

#include "tokenmill/train.h"
#include "util/no_throw.h"

namespace tokenmill {

struct ChunkCounter::Impl {
  struct Slot {
    uint64_t head;  // first bytes of the chunk (key_head)
    uint32_t len;   // 0 = empty slot (chunks are never empty)
    uint32_t id;    // index into offsets / counts
  };

  Pretokenizer pre;
  std::vector<Slot> slots;
  uint64_t mask = 0;
  std::string arena;               // chunk bytes, in id order
  std::vector<uint64_t> offsets;   // id -> start in arena; offsets[n] = arena.size()
  std::vector<uint64_t> counts;    // id -> occurrences
  uint64_t documents = 0;
  uint64_t total = 0;

  explicit Impl(Pretokenizer p) : pre(std::move(p)) {
    slots.assign(1 << 16, Slot{0, 0, 0});
    mask = slots.size() - 1;
    offsets.push_back(0);
  }

  // Same key scheme as Vocabulary: overlapping loads cover every byte of short keys.
  static uint64_t key_head(const char* p, size_t n) {
    uint64_t h = 0;
    if (n >= 8) {
      std::memcpy(&h, p, 8);
    } else if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      h = lo | (uint64_t(hi) << 32);
    } else {
      h = uint64_t(uint8_t(p[0])) | (uint64_t(uint8_t(p[n / 2])) << 8) | (uint64_t(uint8_t(p[n - 1])) << 16);
    }
    return h;
  }
  static uint64_t hash(const char* p, size_t n, uint64_t head) {
    uint64_t h = head ^ (uint64_t(n) * 0x9E3779B97F4A7C15ull);
    for (size_t i = 8; i < n; i += 8) {
      uint64_t w = 0;
      std::memcpy(&w, p + i, n - i < 8 ? n - i : 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
      h ^= h >> 29;
    }
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 32);
  }

  void grow() {
    std::vector<Slot> old(slots.size() * 2, Slot{0, 0, 0});
    old.swap(slots);
    mask = slots.size() - 1;
    for (const Slot& s : old) {
      if (s.len == 0) continue;
      const char* p = arena.data() + offsets[s.id];
      for (uint64_t i = hash(p, s.len, s.head) & mask;; i = (i + 1) & mask) {
        if (slots[i].len == 0) {
          slots[i] = s;
          break;
        }
      }
    }
  }

  [[gnu::always_inline]] inline void add(const char* p, size_t n, uint64_t count) {
    const uint64_t head = key_head(p, n);
    for (uint64_t i = hash(p, n, head) & mask;; i = (i + 1) & mask) {
      Slot& s = slots[i];
      if (s.len == 0) {
        const uint32_t id = uint32_t(counts.size());
        s = Slot{head, uint32_t(n), id};
        arena.append(p, n);
        offsets.push_back(arena.size());
        counts.push_back(count);
        if (counts.size() * 2 > slots.size()) grow();  // load factor <= 1/2 keeps probes short
        return;
      }
      if (s.head == head && s.len == n &&
          (n <= 8 || std::memcmp(arena.data() + offsets[s.id] + 8, p + 8, n - 8) == 0)) {
        counts[s.id] += count;
        return;
      }
    }
  }
};

ChunkCounter::ChunkCounter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChunkCounter::ChunkCounter(ChunkCounter&&) noexcept = default;
ChunkCounter& ChunkCounter::operator=(ChunkCounter&&) noexcept = default;
ChunkCounter::~ChunkCounter() = default;

Result<ChunkCounter> ChunkCounter::create(std::string_view pattern) try {
  auto pre = Pretokenizer::create(pattern);
  if (!pre.ok()) return pre.status();
  return ChunkCounter(std::make_unique<Impl>(std::move(pre).value()));
} catch (...) {
  return util::exception_status("compiling the split pattern");
}

Status ChunkCounter::add_document(std::string_view text) try {
  Impl& im = *impl_;
  ++im.documents;
  uint64_t pieces = 0;
  Status s = im.pre.for_each_piece(text, [&](std::string_view piece) {
    if (piece.empty()) return;  // a pattern that matches the empty string adds nothing (as rustbpe: no bytes)
    ++pieces;
    im.add(piece.data(), piece.size(), 1);
  });
  im.total += pieces;
  return s;
} catch (...) {
  return util::exception_status(
      [&] { return "counting the chunks of a document of " + std::to_string(text.size()) + " bytes"; });
}

void ChunkCounter::add_chunk(std::string_view chunk, uint64_t count) {
  if (chunk.empty() || count == 0) return;
  impl_->add(chunk.data(), chunk.size(), count);
  impl_->total += count;
}

Status ChunkCounter::merge(const ChunkCounter& other) try {
  if (other.pattern() != pattern()) {
    return Status(ErrorCode::kInvalidArgument, "cannot merge chunk counts made with different split patterns");
  }
  const Impl& o = *other.impl_;
  for (size_t i = 0; i < o.counts.size(); ++i) {
    impl_->add(o.arena.data() + o.offsets[i], size_t(o.offsets[i + 1] - o.offsets[i]), o.counts[i]);
  }
  impl_->total += o.total;
  impl_->documents += o.documents;
  return Status();
} catch (...) {
  return util::exception_status("merging chunk counts");
}

void ChunkCounter::add_documents(uint64_t n) { impl_->documents += n; }

const std::string& ChunkCounter::pattern() const { return impl_->pre.pattern(); }
uint64_t ChunkCounter::documents() const { return impl_->documents; }
uint64_t ChunkCounter::total_chunks() const { return impl_->total; }
size_t ChunkCounter::distinct_chunks() const { return impl_->counts.size(); }
std::string_view ChunkCounter::chunk(size_t i) const {
  return std::string_view(impl_->arena.data() + impl_->offsets[i], impl_->offsets[i + 1] - impl_->offsets[i]);
}
uint64_t ChunkCounter::count(size_t i) const { return impl_->counts[i]; }
size_t ChunkCounter::memory_bytes() const {
  return impl_->arena.capacity() + impl_->slots.capacity() * sizeof(Impl::Slot) +
         (impl_->offsets.capacity() + impl_->counts.capacity()) * sizeof(uint64_t);
}

}  // namespace tokenmill
