// tokenmill._core: the nanobind extension behind the `tokenmill` Python package.
//
// This layer only converts: Python objects in, C++ calls with the GIL released, Python objects out. The
// tiktoken- and rustbpe-compatible classes (argument defaults, error messages, pickling) are Python code in
// python/tokenmill/, which calls the small classes here.
//
// Errors: the C++ library returns Status / Result values; they become Python exceptions here (raise_status).
// Nothing in the library throws; conversion errors raise Python exceptions through nb::python_error, which
// nanobind turns back into the pending Python error. An allocation failure inside the library is a
// kOutOfMemory value, which becomes MemoryError (python/src/status_error.h).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "id_list.h"
#include "status_error.h"
#include "tokenmill/encoding.h"
#include "tokenmill/fetch.h"
#include "tokenmill/tekken.h"
#include "tokenmill/train.h"

namespace nb = nanobind;
using tokenmill::ErrorCode;
using tokenmill::Rank;
using tokenmill::SpecialSet;
using tokenmill::Status;

namespace {

[[noreturn]] void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw nb::python_error();
}

using tokenmill::python::raise_status;
using tokenmill::python::to_list;

// UTF-8 of a Python str. With `fix_surrogates`, a str that has no UTF-8 form (lone surrogates) is first
// re-encoded as tiktoken does: text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"); the new
// str is kept alive in `keep`. Without it, the UnicodeEncodeError propagates (rustbpe's behaviour).
std::string_view utf8_of(nb::handle h, nb::object* keep, bool fix_surrogates) {
  if (!PyUnicode_Check(h.ptr())) {
    raise(PyExc_TypeError, std::string("'") + Py_TYPE(h.ptr())->tp_name + "' object is not an instance of 'str'");
  }
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
  if (p == nullptr) {
    if (!fix_surrogates || keep == nullptr || !PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
      throw nb::python_error();
    }
    PyErr_Clear();
    *keep = h.attr("encode")("utf-16", "surrogatepass").attr("decode")("utf-16", "replace");
    p = PyUnicode_AsUTF8AndSize(keep->ptr(), &n);
    if (p == nullptr) throw nb::python_error();
  }
  return std::string_view(p, size_t(n));
}

// A list (or other sequence) of str -> views; `keep` holds any re-encoded strings.
std::vector<std::string_view> utf8_list(nb::handle seq, std::vector<nb::object>& keep, bool fix_surrogates) {
  if (PyUnicode_Check(seq.ptr()) || PyBytes_Check(seq.ptr())) {
    raise(PyExc_TypeError, std::string("expected a list of str, got '") + Py_TYPE(seq.ptr())->tp_name + "'");
  }
  nb::object fast = nb::steal(PySequence_Fast(seq.ptr(), "expected a sequence of str"));
  if (!fast.is_valid()) throw nb::python_error();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
  PyObject** items = PySequence_Fast_ITEMS(fast.ptr());
  std::vector<std::string_view> out(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    nb::object k;
    out[size_t(i)] = utf8_of(items[i], &k, fix_surrogates);
    if (k.is_valid()) keep.push_back(std::move(k));
  }
  keep.push_back(std::move(fast));  // views into the items stay valid while the sequence object lives
  return out;
}

Rank id_of(PyObject* o) {
  long long v;
  if (PyLong_Check(o)) {
    int overflow = 0;
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) throw nb::python_error();
    if (overflow != 0) raise(PyExc_OverflowError, "Python int too large to convert to C long");
  } else {
    nb::object idx = nb::steal(PyNumber_Index(o));  // TypeError "'str' object cannot be interpreted as an integer"
    if (!idx.is_valid()) throw nb::python_error();
    int overflow = 0;
    v = PyLong_AsLongLongAndOverflow(idx.ptr(), &overflow);
    if (v == -1 && PyErr_Occurred()) throw nb::python_error();
    if (overflow != 0) raise(PyExc_OverflowError, "Python int too large to convert to C long");
  }
  if (v < 0 || v > 0xFFFFFFFFll) raise(PyExc_OverflowError, "out of range integral type conversion attempted");
  return Rank(v);
}

// Token ids from a Python sequence of ints, or from a contiguous uint32 buffer (numpy) without a loop.
std::vector<Rank> ids_of(nb::handle seq) {
  PyObject* o = seq.ptr();
  if (PyUnicode_Check(o)) raise(PyExc_TypeError, "Can't extract `str` to `Vec`");
  if (PyObject_CheckBuffer(o) && !PyBytes_Check(o) && !PyByteArray_Check(o)) {
    Py_buffer view;
    if (PyObject_GetBuffer(o, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) == 0) {
      std::unique_ptr<Py_buffer, void (*)(Py_buffer*)> release(&view, PyBuffer_Release);
      const char* f = view.format ? view.format : "B";
      if (*f == '=' || *f == '<' || *f == '@') ++f;
      if (view.ndim == 1 && view.itemsize == 4 && (std::strcmp(f, "I") == 0 || std::strcmp(f, "L") == 0)) {
        std::vector<Rank> out(static_cast<size_t>(view.len / 4));
        if (!out.empty()) std::memcpy(out.data(), view.buf, out.size() * 4);
        return out;
      }
    } else {
      PyErr_Clear();
    }
  }
  nb::object fast = nb::steal(PySequence_Fast(o, "expected a sequence of token ids"));
  if (!fast.is_valid()) throw nb::python_error();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast.ptr());
  PyObject** items = PySequence_Fast_ITEMS(fast.ptr());
  std::vector<Rank> out(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) out[size_t(i)] = id_of(items[i]);
  return out;
}

// The lists built here hold only ints, so they cannot form reference cycles; the cyclic GC is paused while
// they are built (a batch creates one list per text, and each few hundred new lists would otherwise start a
// collection that walks every live container: half the time of a batch of short texts).
struct GcPause {
#if PY_VERSION_HEX >= 0x030A0000
  int was_enabled = PyGC_Disable();
  ~GcPause() {
    if (was_enabled) PyGC_Enable();
  }
#endif
};

nb::object to_list_of_lists(const std::vector<std::vector<Rank>>& all) {
  GcPause pause;
  PyObject* out = PyList_New(Py_ssize_t(all.size()));
  if (out == nullptr) throw nb::python_error();
  nb::object owner = nb::steal(out);
  for (size_t i = 0; i < all.size(); ++i) PyList_SET_ITEM(out, Py_ssize_t(i), to_list(all[i]).release().ptr());
  return owner;
}

nb::bytes to_bytes(std::string_view s) { return nb::bytes(s.data(), s.size()); }

nb::object decode_utf8(std::string_view s, const char* errors) {
  PyObject* r = PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), errors);
  if (r == nullptr) throw nb::python_error();
  return nb::steal(r);
}

// None means "all" (tiktoken's "all"); otherwise any iterable of str.
SpecialSet special_set(nb::handle h) {
  if (h.is_none()) return SpecialSet::all();
  std::vector<std::string> tokens;
  for (nb::handle item : h) {
    if (!PyUnicode_Check(item.ptr())) {
      raise(PyExc_TypeError, std::string("special tokens must be str, not '") + Py_TYPE(item.ptr())->tp_name + "'");
    }
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(item.ptr(), &n);
    if (p == nullptr) throw nb::python_error();
    tokens.emplace_back(p, size_t(n));
  }
  return SpecialSet::of(std::move(tokens));
}

unsigned thread_count(long num_threads) {
  if (num_threads <= 0) raise(PyExc_ValueError, "max_workers must be greater than 0");
  return unsigned(std::min<long>(num_threads, 1024));
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

struct CoreEncoding {
  tokenmill::Encoding enc;

  static CoreEncoding load(const std::string& name) {
    tokenmill::Result<tokenmill::Encoding> r = [&] {
      nb::gil_scoped_release nogil;  // may read (or fetch) the rank file
      return tokenmill::Encoding::load(name);
    }();
    if (!r.ok()) raise_status(r.status());
    return CoreEncoding{std::move(r).value()};
  }

  // ranks: dict[bytes, int] or iterable of (bytes, int); specials: dict[str, int].
  static CoreEncoding create(const std::string& name, nb::handle pat_str, nb::handle ranks, nb::handle specials) {
    tokenmill::EncodingSpec spec;
    spec.name = name;
    spec.pattern = std::string(utf8_of(pat_str, nullptr, false));
    std::vector<std::pair<std::string, Rank>> pairs;
    nb::object items = PyDict_Check(ranks.ptr()) ? nb::object(ranks.attr("items")()) : nb::borrow(ranks);
    for (nb::handle kv : items) {
      nb::object k = kv[0], v = kv[1];
      if (!PyBytes_Check(k.ptr())) {
        raise(PyExc_TypeError, std::string("mergeable_ranks keys must be bytes, not '") + Py_TYPE(k.ptr())->tp_name + "'");
      }
      pairs.emplace_back(std::string(PyBytes_AS_STRING(k.ptr()), size_t(PyBytes_GET_SIZE(k.ptr()))), id_of(v.ptr()));
    }
    if (!PyDict_Check(specials.ptr())) raise(PyExc_TypeError, "special_tokens must be a dict[str, int]");
    for (nb::handle kv : specials.attr("items")()) {
      nb::object k = kv[0], v = kv[1];
      spec.special_tokens.emplace_back(std::string(utf8_of(k, nullptr, false)), id_of(v.ptr()));
    }
    tokenmill::Result<tokenmill::Encoding> r = [&]() -> tokenmill::Result<tokenmill::Encoding> {
      nb::gil_scoped_release nogil;
      auto vocab = tokenmill::Vocabulary::from_ranks(std::move(pairs));
      if (!vocab.ok()) return vocab.status();
      spec.ranks = std::move(vocab).value();
      return tokenmill::Encoding::create(std::move(spec));
    }();
    if (!r.ok()) raise_status(r.status());
    return CoreEncoding{std::move(r).value()};
  }

  nb::object encode_ordinary(nb::handle text, long num_threads) const {
    const unsigned threads = thread_count(num_threads);
    nb::object keep;
    std::string_view t = utf8_of(text, &keep, true);
    tokenmill::Result<std::vector<Rank>> r = [&] {
      nb::gil_scoped_release nogil;
      return threads == 1 ? enc.encode_ordinary(t) : enc.encode_ordinary_parallel(t, threads);
    }();
    if (!r.ok()) raise_status(r.status());
    return to_list(*r);
  }

  // fix_surrogates: tiktoken's encode re-encodes a str with lone surrogates; its encode_to_numpy does not
  // (UnicodeEncodeError).
  std::vector<Rank> encode_vec(nb::handle text, nb::handle allowed, nb::handle disallowed,
                               bool fix_surrogates = true) const {
    nb::object keep;
    std::string_view t = utf8_of(text, &keep, fix_surrogates);
    SpecialSet a = special_set(allowed), d = special_set(disallowed);
    tokenmill::Result<std::vector<Rank>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.encode(t, a, d);
    }();
    if (!r.ok()) raise_status(r.status());
    return std::move(r).value();
  }

  nb::object encode(nb::handle text, nb::handle allowed, nb::handle disallowed) const {
    return to_list(encode_vec(text, allowed, disallowed));
  }

  // uint32 numpy array that owns the C++ vector: no copy of the ids.
  nb::object encode_to_numpy(nb::handle text, nb::handle allowed, nb::handle disallowed) const {
    auto* ids = new std::vector<Rank>(encode_vec(text, allowed, disallowed, false));
    nb::capsule owner(ids, [](void* p) noexcept { delete static_cast<std::vector<Rank>*>(p); });
    size_t shape[1] = {ids->size()};
    return nb::cast(nb::ndarray<nb::numpy, uint32_t, nb::ndim<1>>(ids->data(), 1, shape, owner));
  }

  nb::object encode_bytes(nb::bytes data) const {
    std::string_view b(data.c_str(), data.size());
    tokenmill::Result<std::vector<Rank>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.encode_bytes(b);
    }();
    if (!r.ok()) raise_status(r.status());
    return to_list(*r);
  }

  nb::object encode_ordinary_batch(nb::handle texts, long num_threads) const {
    const unsigned threads = thread_count(num_threads);
    std::vector<nb::object> keep;
    std::vector<std::string_view> views = utf8_list(texts, keep, true);
    tokenmill::Result<std::vector<std::vector<Rank>>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.encode_ordinary_batch(views, threads);
    }();
    if (!r.ok()) raise_status(r.status());
    return to_list_of_lists(*r);
  }

  // The C++ half of encode_ordinary_batch alone (texts -> views -> ids), returning only the number of ids:
  // bench/python_bench.py compares it with the full call to measure what building the Python lists costs.
  size_t encode_ordinary_batch_count(nb::handle texts, long num_threads) const {
    const unsigned threads = thread_count(num_threads);
    std::vector<nb::object> keep;
    std::vector<std::string_view> views = utf8_list(texts, keep, true);
    tokenmill::Result<std::vector<std::vector<Rank>>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.encode_ordinary_batch(views, threads);
    }();
    if (!r.ok()) raise_status(r.status());
    size_t n = 0;
    for (const auto& ids : *r) n += ids.size();
    return n;
  }

  nb::object encode_batch(nb::handle texts, long num_threads, nb::handle allowed, nb::handle disallowed) const {
    const unsigned threads = thread_count(num_threads);
    std::vector<nb::object> keep;
    std::vector<std::string_view> views = utf8_list(texts, keep, true);
    SpecialSet a = special_set(allowed), d = special_set(disallowed);
    tokenmill::Result<std::vector<std::vector<Rank>>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.encode_batch(views, a, d, threads);
    }();
    if (!r.ok()) raise_status(r.status());
    return to_list_of_lists(*r);
  }

  std::string decode_raw(nb::handle tokens) const {
    std::vector<Rank> ids = ids_of(tokens);
    tokenmill::Result<std::string> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.decode_bytes(ids);
    }();
    if (!r.ok()) {
      // tiktoken: KeyError("Invalid token for decoding: N") for the first unknown id.
      for (Rank id : ids) {
        if (!enc.decode_single_token_bytes(id).ok()) {
          raise(PyExc_KeyError, "Invalid token for decoding: " + std::to_string(id));
        }
      }
      raise_status(r.status());
    }
    return std::move(r).value();
  }

  nb::bytes decode_bytes(nb::handle tokens) const { return to_bytes(decode_raw(tokens)); }

  nb::object decode(nb::handle tokens, const char* errors) const { return decode_utf8(decode_raw(tokens), errors); }

  // Batches decode on the C++ thread pool without the GIL; Python objects are made afterwards. On an error
  // the lists are decoded one by one again, so the exception is exactly the one decode would raise.
  std::vector<std::string> decode_raw_batch(nb::handle batch, long num_threads) const {
    const unsigned threads = thread_count(num_threads);  // tiktoken's ThreadPoolExecutor refuses 0 first
    std::vector<std::vector<Rank>> lists;
    for (nb::handle tokens : batch) lists.push_back(ids_of(tokens));
    tokenmill::Result<std::vector<std::string>> r = [&] {
      nb::gil_scoped_release nogil;
      return enc.decode_bytes_batch(lists, threads);
    }();
    if (!r.ok()) {
      for (nb::handle tokens : batch) (void)decode_raw(tokens);
      raise_status(r.status());
    }
    return std::move(r).value();
  }

  nb::object decode_batch(nb::handle batch, const char* errors, long num_threads) const {
    nb::list out;
    for (std::string& bytes : decode_raw_batch(batch, num_threads)) out.append(decode_utf8(bytes, errors));
    return std::move(out);
  }

  nb::object decode_bytes_batch(nb::handle batch, long num_threads) const {
    nb::list out;
    for (const std::string& bytes : decode_raw_batch(batch, num_threads)) out.append(to_bytes(bytes));
    return std::move(out);
  }

  nb::bytes decode_single_token_bytes(nb::handle token) const {
    Rank id = id_of(token.ptr());
    auto r = enc.decode_single_token_bytes(id);
    if (!r.ok()) raise(PyExc_KeyError, std::to_string(id));
    return to_bytes(*r);
  }

  nb::object decode_tokens_bytes(nb::handle tokens) const {
    std::vector<Rank> ids = ids_of(tokens);
    nb::list out;
    for (Rank id : ids) {
      auto r = enc.decode_single_token_bytes(id);
      if (!r.ok()) raise(PyExc_KeyError, std::to_string(id));
      out.append(to_bytes(*r));
    }
    return std::move(out);
  }

  Rank encode_single_token(nb::handle token) const {
    std::string_view b;
    nb::object keep;
    if (PyBytes_Check(token.ptr())) {
      b = std::string_view(PyBytes_AS_STRING(token.ptr()), size_t(PyBytes_GET_SIZE(token.ptr())));
    } else {
      b = utf8_of(token, &keep, false);
    }
    auto r = enc.encode_single_token(b);
    if (!r.ok()) {
      PyErr_SetObject(PyExc_KeyError, to_bytes(b).ptr());
      throw nb::python_error();
    }
    return *r;
  }

  // All mergeable token bytes, sorted as bytes (tiktoken's token_byte_values).
  nb::object token_byte_values() const {
    const auto& v = enc.ranks();
    std::vector<std::string_view> all;
    all.reserve(v.size());
    for (Rank r = 0; r < v.rank_limit(); ++r) {
      if (v.contains_rank(r)) all.push_back(v.token_bytes(r));
    }
    std::sort(all.begin(), all.end());
    nb::list out;
    for (auto s : all) out.append(to_bytes(s));
    return std::move(out);
  }

  // dict[bytes, int] of the mergeable ranks, in rank order.
  nb::object mergeable_ranks() const {
    const auto& v = enc.ranks();
    nb::dict out;
    for (Rank r = 0; r < v.rank_limit(); ++r) {
      if (v.contains_rank(r)) out[to_bytes(v.token_bytes(r))] = r;
    }
    return std::move(out);
  }

  nb::object special_tokens() const {
    nb::dict out;
    for (const auto& [text, id] : enc.special_tokens()) out[decode_utf8(text, "strict")] = id;
    return std::move(out);
  }
};

// ---------------------------------------------------------------------------------------------------------
// Training

nb::object model_ranks(const tokenmill::BpeModel& m) {
  nb::list out;
  for (Rank r = 0; r < m.ranks.rank_limit(); ++r) {
    if (m.ranks.contains_rank(r)) out.append(nb::make_tuple(to_bytes(m.ranks.token_bytes(r)), r));
  }
  return std::move(out);
}

struct CoreModel {
  tokenmill::BpeModel model;
  uint32_t merges = 0;  // number of merges (tokens beyond the 256 bytes)

  // 256 single bytes, no merges, no pattern: an untrained rustbpe Tokenizer.
  static CoreModel bytes_only(std::string pattern) {
    std::vector<std::pair<std::string, Rank>> pairs;
    for (int b = 0; b < 256; ++b) pairs.emplace_back(std::string(1, char(b)), Rank(b));
    auto v = tokenmill::Vocabulary::from_ranks(std::move(pairs));
    CoreModel m;
    m.model.pattern = std::move(pattern);
    m.model.ranks = std::move(v).value();
    return m;
  }

  static CoreModel load(const std::string& path) {
    auto r = [&] {
      nb::gil_scoped_release nogil;
      return tokenmill::BpeModel::load_model_file(path);
    }();
    if (!r.ok()) raise_status(r.status());
    CoreModel m{std::move(r).value(), 0};
    m.merges = m.model.ranks.size() > 256 ? uint32_t(m.model.ranks.size() - 256) : 0;
    return m;
  }

  void save(const std::string& path) const {
    Status s;
    {
      nb::gil_scoped_release nogil;
      s = model.write_model_file(path);
    }
    if (!s.ok()) raise_status(s);
  }

  CoreEncoding encoding(const std::string& name) const {
    auto r = [&] {
      nb::gil_scoped_release nogil;
      return model.encoding(name);
    }();
    if (!r.ok()) raise_status(r.status());
    return CoreEncoding{std::move(r).value()};
  }

  nb::object special_tokens() const {
    nb::dict out;
    for (const auto& [text, id] : model.special_tokens) out[decode_utf8(text, "strict")] = id;
    return std::move(out);
  }
};

struct CoreTrainer {
  std::optional<tokenmill::ChunkCounter> counter;
  uint64_t documents = 0;

  explicit CoreTrainer(nb::handle pattern) {
    std::string p(utf8_of(pattern, nullptr, false));
    auto r = tokenmill::ChunkCounter::create(p);
    if (!r.ok()) raise(PyExc_ValueError, "Invalid regex pattern: " + r.error());
    counter.emplace(std::move(r).value());
  }

  tokenmill::ChunkCounter& live() {
    if (!counter) raise(PyExc_RuntimeError, "this trainer has already trained; create a new one");
    return *counter;
  }

  // Counts the chunks of each str in `docs` (one document each). The GIL is released while counting, so
  // another Python thread can fetch the next buffer meanwhile. Non-str items: TypeError, nothing counted.
  void add_documents(nb::handle docs) {
    tokenmill::ChunkCounter& c = live();
    std::vector<nb::object> keep;
    std::vector<std::string_view> views = utf8_list(docs, keep, false);
    tokenmill::Status s;
    size_t added = 0;
    {
      nb::gil_scoped_release nogil;
      for (; added < views.size() && s.ok(); ++added) s = c.add_document(views[added]);
    }
    documents += added;
    if (!s.ok()) raise_status(s);
  }

  CoreModel train(uint64_t vocab_size, std::vector<std::string> special_tokens) {
    tokenmill::ChunkCounter& c = live();
    if (vocab_size < 256) raise(PyExc_ValueError, "vocab_size must be at least 256");
    if (c.distinct_chunks() == 0) {  // rustbpe: an empty corpus trains no merges
      CoreModel m = CoreModel::bytes_only(c.pattern());
      Rank next = 256;
      for (auto& s : special_tokens) m.model.special_tokens.emplace_back(std::move(s), next++);
      counter.reset();
      return m;
    }
    tokenmill::TrainOptions opt;
    opt.vocab_size = vocab_size;
    opt.special_tokens = std::move(special_tokens);
    tokenmill::ChunkCounter moved = std::move(*counter);
    counter.reset();
    auto r = [&] {
      nb::gil_scoped_release nogil;
      return tokenmill::train_bpe(std::move(moved), opt);
    }();
    if (!r.ok()) raise_status(r.status());
    CoreModel m{std::move(r->model), uint32_t(r->merges.size())};
    return m;
  }
};

// Mistral's tekken.json (include/tokenmill/tekken.h).
struct CoreTekken {
  tokenmill::Tekken tekken;

  static CoreTekken load(const std::string& path) {
    tokenmill::Result<tokenmill::Tekken> r = [&] {
      nb::gil_scoped_release nogil;
      return tokenmill::Tekken::from_file(path);
    }();
    if (!r.ok()) raise_status(r.status());
    return CoreTekken{std::move(r).value()};
  }
  nb::object encode(nb::handle text, bool bos, bool eos) const {
    nb::object keep;
    const std::string_view utf8 = utf8_of(text, &keep, false);
    tokenmill::Result<std::vector<Rank>> r = [&] {
      nb::gil_scoped_release nogil;
      return tekken.encode(utf8, bos, eos);
    }();
    if (!r.ok()) raise_status(r.status());
    return to_list(*r);
  }
  // policy: 0 ignore, 1 keep, 2 raise (mistral-common's SpecialTokenPolicy, in tokenmill/tekken.py).
  std::string decode(nb::handle tokens, int policy) const {
    const std::vector<Rank> ids = ids_of(tokens);
    auto r = tekken.decode(ids, tokenmill::Tekken::SpecialTokenPolicy(policy));
    if (!r.ok()) raise_status(r.status());
    return std::move(r).value();
  }
  std::vector<std::string> special_tokens() const {
    std::vector<std::string> out;
    for (uint32_t id = 0; id < tekken.num_special_tokens(); ++id) out.push_back(tekken.special_token(id));
    return out;
  }
};

}  // namespace

void register_dataset(nb::module_& m);  // python/src/_dataset.cc

NB_MODULE(_core, m) {
  m.doc() = "tokenmill's C++ core (internal: use the `tokenmill` package).";

  nb::class_<CoreEncoding>(m, "CoreEncoding")
      .def_static("load", &CoreEncoding::load, nb::arg("name"))
      .def_static("create", &CoreEncoding::create, nb::arg("name"), nb::arg("pat_str"), nb::arg("mergeable_ranks"),
                  nb::arg("special_tokens"))
      .def("encode_ordinary", &CoreEncoding::encode_ordinary, nb::arg("text"), nb::arg("num_threads") = 1)
      .def("encode", &CoreEncoding::encode, nb::arg("text"), nb::arg("allowed").none(), nb::arg("disallowed").none())
      .def("encode_to_numpy", &CoreEncoding::encode_to_numpy, nb::arg("text"), nb::arg("allowed").none(),
           nb::arg("disallowed").none())
      .def("encode_bytes", &CoreEncoding::encode_bytes, nb::arg("data"))
      .def("encode_ordinary_batch", &CoreEncoding::encode_ordinary_batch, nb::arg("texts"), nb::arg("num_threads"))
      .def("encode_ordinary_batch_count", &CoreEncoding::encode_ordinary_batch_count, nb::arg("texts"),
           nb::arg("num_threads"))
      .def("encode_batch", &CoreEncoding::encode_batch, nb::arg("texts"), nb::arg("num_threads"),
           nb::arg("allowed").none(), nb::arg("disallowed").none())
      .def("decode_bytes", &CoreEncoding::decode_bytes, nb::arg("tokens"))
      .def("decode", &CoreEncoding::decode, nb::arg("tokens"), nb::arg("errors"))
      .def("decode_batch", &CoreEncoding::decode_batch, nb::arg("batch"), nb::arg("errors"), nb::arg("num_threads"))
      .def("decode_bytes_batch", &CoreEncoding::decode_bytes_batch, nb::arg("batch"), nb::arg("num_threads"))
      .def("decode_single_token_bytes", &CoreEncoding::decode_single_token_bytes, nb::arg("token"))
      .def("decode_tokens_bytes", &CoreEncoding::decode_tokens_bytes, nb::arg("tokens"))
      .def("encode_single_token", &CoreEncoding::encode_single_token, nb::arg("token"))
      .def("token_byte_values", &CoreEncoding::token_byte_values)
      .def("mergeable_ranks", &CoreEncoding::mergeable_ranks)
      .def("special_tokens", &CoreEncoding::special_tokens)
      .def("is_special_token", [](const CoreEncoding& e, Rank id) { return e.enc.is_special_token(id); })
      .def_prop_ro("name", [](const CoreEncoding& e) { return e.enc.name(); })
      .def_prop_ro("pattern", [](const CoreEncoding& e) { return e.enc.pattern(); })
      .def_prop_ro("n_vocab", [](const CoreEncoding& e) { return e.enc.n_vocab(); });

  nb::class_<CoreTekken>(m, "CoreTekken")
      .def_static("load", &CoreTekken::load, nb::arg("path"))
      .def("encode", &CoreTekken::encode, nb::arg("text"), nb::arg("bos"), nb::arg("eos"))
      .def("decode", &CoreTekken::decode, nb::arg("tokens"), nb::arg("policy"))
      .def("special_tokens", &CoreTekken::special_tokens)
      .def("encoding", [](const CoreTekken& t) { return CoreEncoding{t.tekken.encoding()}; })
      .def_prop_ro("n_words", [](const CoreTekken& t) { return t.tekken.vocab_size(); })
      .def_prop_ro("version", [](const CoreTekken& t) { return t.tekken.version(); });

  nb::class_<CoreModel>(m, "CoreModel")
      .def_static("bytes_only", &CoreModel::bytes_only, nb::arg("pattern"))
      .def_static("load", &CoreModel::load, nb::arg("path"))
      .def("save", &CoreModel::save, nb::arg("path"))
      .def("encoding", &CoreModel::encoding, nb::arg("name"))
      .def("mergeable_ranks", [](const CoreModel& c) { return model_ranks(c.model); })
      .def("special_tokens", &CoreModel::special_tokens)
      .def_prop_ro("pattern", [](const CoreModel& c) { return c.model.pattern; })
      .def_prop_ro("merges", [](const CoreModel& c) { return c.merges; });

  nb::class_<CoreTrainer>(m, "CoreTrainer")
      .def(nb::init<nb::handle>(), nb::arg("pattern"))
      .def("add_documents", &CoreTrainer::add_documents, nb::arg("docs"))
      .def("train", &CoreTrainer::train, nb::arg("vocab_size"), nb::arg("special_tokens"))
      .def_ro("documents", &CoreTrainer::documents);

  m.def("builtin_names", &tokenmill::Encoding::builtin_names);
  m.def("encoding_name_for_model", &tokenmill::Encoding::encoding_name_for_model, nb::arg("model"));
  m.def("default_cache_dir", &tokenmill::default_cache_dir);
  m.attr("GPT4_PATTERN") = std::string(tokenmill::kGpt4Pattern);
  m.attr("NANOCHAT_PATTERN") = std::string(tokenmill::kNanochatPattern);
  register_dataset(m);
}
