// tokenmill._hf: the nanobind extension behind tokenmill.hf (a drop-in for tokenizers.Tokenizer on
// tokenizer.json files). Conversion only: Python objects in, C++ calls with the GIL released, Python
// objects out; HF's names and defaults are Python code in python/tokenmill/hf.py.
//
// Library errors (Status) become ValueError / OSError here; nothing in the library throws.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "id_list.h"
#include "status_error.h"
#include "tokenmill/encoding.h"
#include "tokenmill/hf_json.h"
#include "tokenmill/tokenizer.h"

namespace nb = nanobind;
using tokenmill::Encoded;
using tokenmill::ErrorCode;
using tokenmill::Result;
using tokenmill::Status;
using tokenmill::Tokenizer;

namespace {

using tokenmill::python::raise_status;

// HF's message and type for anything that is not a str with a UTF-8 form (lone surrogates included).
std::string_view utf8_of(nb::handle h) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_Check(h.ptr()) ? PyUnicode_AsUTF8AndSize(h.ptr(), &n) : nullptr;
  if (p == nullptr) {
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError, "TextInputSequence must be str");
    throw nb::python_error();
  }
  return std::string_view(p, size_t(n));
}

nb::list optional_list(const std::vector<std::optional<uint32_t>>& v) {
  nb::list out;
  for (auto w : v) {
    if (w) {
      out.append(nb::int_(*w));
    } else {
      out.append(nb::none());
    }
  }
  return out;
}

// An Encoded as Python objects: (ids, type_ids, tokens, offsets, special_tokens_mask, attention_mask,
// word_ids, sequence_ids, n_sequences, overflowing, sequence_ranges), the overflowing parts as tuples of the
// same form, sequence_ranges as {sequence: (begin, end)}.
nb::tuple to_python(const Encoded& e) {
  nb::list offsets, overflowing;
  nb::dict ranges;
  for (auto [b, en] : e.offsets) offsets.append(nb::make_tuple(b, en));
  for (const Encoded& o : e.overflowing) overflowing.append(to_python(o));
  for (const auto& [seq, r] : e.sequence_ranges) ranges[nb::int_(seq)] = nb::make_tuple(r.first, r.second);
  return nb::make_tuple(tokenmill::python::to_list(e.ids), nb::cast(e.type_ids), nb::cast(e.tokens), offsets,
                        nb::cast(e.special_tokens_mask), nb::cast(e.attention_mask), optional_list(e.word_ids),
                        optional_list(e.sequence_ids()), e.n_sequences(), overflowing, ranges);
}

// The items of a list or a tuple, the inputs HF takes as sequences (borrowed: they live as long as the
// sequence holds them), or nullopt for anything else.
std::optional<std::span<PyObject* const>> items_of(nb::handle h) {
  if (!PyList_Check(h.ptr()) && !PyTuple_Check(h.ptr())) return std::nullopt;
  return std::span<PyObject* const>(PySequence_Fast_ITEMS(h.ptr()), size_t(PySequence_Fast_GET_SIZE(h.ptr())));
}

// HF's TextEncodeInput: a str, or a pair of str as a tuple or a list of two.
Tokenizer::EncodeInput encode_input(nb::handle h) {
  if (PyUnicode_Check(h.ptr())) return {utf8_of(h), std::nullopt};
  if (auto items = items_of(h); items && items->size() == 2) {
    // The items stay alive: the tuple or list holds them, and it is held by the batch.
    return {utf8_of((*items)[0]), utf8_of((*items)[1])};
  }
  PyErr_SetString(PyExc_TypeError,
                  "TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, InputSequence]]");
  throw nb::python_error();
}

[[noreturn]] void type_error(const char* message) {
  PyErr_SetString(PyExc_TypeError, message);
  throw nb::python_error();
}

// HF's PreTokenizedInputSequence: a list or a tuple of str. The views stay valid while the sequence lives
// (it holds its items). False if `h` is no such sequence.
bool words_of(nb::handle h, std::vector<std::string_view>& out) {
  const auto items = items_of(h);
  if (!items) return false;
  out.clear();
  out.reserve(items->size());
  for (PyObject* item : *items) {
    if (!PyUnicode_Check(item)) return false;
    out.push_back(utf8_of(item));
  }
  return true;
}
constexpr const char* kWordsType = "PreTokenizedInputSequence must be Union[List[str], Tuple[str]]";

// HF's PreTokenizedEncodeInput: a sequence of words, else a pair (a list or tuple of two) of them.
void words_input(nb::handle h, std::vector<std::string_view>& words, std::vector<std::string_view>& pair,
                 Tokenizer::EncodeInput& in) {
  in.pretokenized = true;
  if (words_of(h, words)) {
    in.words = words;
    return;
  }
  if (auto items = items_of(h); items && items->size() == 2) {
    // HF reads a two-item list or tuple as a pair from here on: an item that is not words is its error.
    if (!words_of((*items)[0], words) || !words_of((*items)[1], pair)) type_error(kWordsType);
    in.words = words;
    in.pair_words = std::span<const std::string_view>(pair);
    return;
  }
  type_error(
      "PreTokenizedEncodeInput must be Union[PreTokenizedInputSequence, Tuple[PreTokenizedInputSequence, "
      "PreTokenizedInputSequence]]");
}

// Truncation as Python sees it: (max_length, stride, strategy 0/1/2, direction 0 right / 1 left).
using PyTruncation = std::tuple<size_t, size_t, int, int>;
// Padding: (length or None, direction 0 right / 1 left, pad_to_multiple_of or None, pad_id, pad_type_id, pad_token).
using PyPadding = std::tuple<std::optional<size_t>, int, std::optional<size_t>, uint32_t, uint32_t, std::string>;

struct PyTokenizer {
  Tokenizer tok;

  // Loads without the GIL (a big file takes a second); a failure becomes the Python exception it maps to.
  template <class Load>
  static PyTokenizer loaded(Load load) {
    Result<Tokenizer> t = [&] {
      nb::gil_scoped_release nogil;
      return load();
    }();
    if (!t.ok()) raise_status(t.status());
    return PyTokenizer{std::move(t).value()};
  }
  static PyTokenizer from_str(const std::string& json) {
    return loaded([&] { return Tokenizer::from_string(json, "tokenizer.json string"); });
  }
  // A file's bytes, read by the caller (it keeps them for to_str); `source` names the file in errors.
  static PyTokenizer from_bytes(nb::bytes data, const std::string& source) {
    const std::string_view json(data.c_str(), data.size());
    return loaded([&] { return Tokenizer::from_string(json, source); });
  }
  static PyTokenizer from_file(const std::string& path) {
    return loaded([&] { return Tokenizer::from_file(path); });
  }

  static Tokenizer::EncodeOptions options(bool add_special_tokens, bool fast) {
    Tokenizer::EncodeOptions o;
    o.add_special_tokens = add_special_tokens;
    o.char_offsets = !fast;
    o.ids_and_masks_only = fast;
    return o;
  }

  nb::tuple encode(nb::handle text, nb::handle pair, bool add_special_tokens, bool fast) const {
    std::string_view s = utf8_of(text);
    std::optional<std::string_view> p;
    if (!pair.is_none()) p = utf8_of(pair);
    Tokenizer::EncodeOptions o = options(add_special_tokens, fast);
    Result<Encoded> e = [&] {
      nb::gil_scoped_release nogil;
      return p ? tok.encode(s, *p, o) : tok.encode(s, o);
    }();
    if (!e.ok()) raise_status(e.status());
    return to_python(*e);
  }

  // HF's encode(..., is_pretokenized=True).
  nb::tuple encode_words(nb::handle words, nb::handle pair, bool add_special_tokens, bool fast) const {
    std::vector<std::string_view> w, p;
    if (!words_of(words, w)) type_error(kWordsType);
    const bool has_pair = !pair.is_none();
    if (has_pair && !words_of(pair, p)) type_error(kWordsType);
    Tokenizer::EncodeOptions o = options(add_special_tokens, fast);
    Result<Encoded> e = [&] {
      nb::gil_scoped_release nogil;
      return has_pair ? tok.encode_words(w, p, o) : tok.encode_words(w, o);
    }();
    if (!e.ok()) raise_status(e.status());
    return to_python(*e);
  }

  // Ids only, from the fused loop where the model allows it (Tokenizer::encode_ids).
  nb::object encode_ids(nb::handle text, bool add_special_tokens) const {
    std::string_view s = utf8_of(text);
    Result<std::vector<uint32_t>> ids = [&] {
      nb::gil_scoped_release nogil;
      return tok.encode_ids(s, add_special_tokens);
    }();
    if (!ids.ok()) raise_status(ids.status());
    return tokenmill::python::to_list(*ids);  // shared ints: an incref per id, not an allocation
  }

  nb::list encode_batch(nb::handle seq, bool add_special_tokens, bool fast, bool pretokenized) const {
    nb::object items = nb::steal(PySequence_Fast(seq.ptr(), "encode_batch expects a list"));
    if (!items.is_valid()) throw nb::python_error();
    const size_t n = size_t(PySequence_Fast_GET_SIZE(items.ptr()));
    std::vector<Tokenizer::EncodeInput> inputs(n);
    std::vector<std::vector<std::string_view>> words(pretokenized ? n : 0), pairs(pretokenized ? n : 0);
    for (size_t i = 0; i < n; ++i) {
      nb::handle item = PySequence_Fast_GET_ITEM(items.ptr(), Py_ssize_t(i));
      if (pretokenized) {
        words_input(item, words[i], pairs[i], inputs[i]);
      } else {
        inputs[i] = encode_input(item);
      }
    }
    Tokenizer::EncodeOptions o = options(add_special_tokens, fast);
    Result<std::vector<Encoded>> out = [&] {
      nb::gil_scoped_release nogil;
      return tok.encode_batch(inputs, o);
    }();
    if (!out.ok()) raise_status(out.status());
    nb::list result;
    for (const Encoded& e : *out) result.append(to_python(e));
    return result;
  }

  PyTokenizer with_truncation(std::optional<PyTruncation> t) const {
    std::optional<tokenmill::TruncationParams> params;
    if (t) {
      params.emplace();
      params->max_length = std::get<0>(*t);
      params->stride = std::get<1>(*t);
      params->strategy = tokenmill::TruncationParams::Strategy(std::get<2>(*t));
      params->direction = tokenmill::TruncationParams::Direction(std::get<3>(*t));
    }
    Result<Tokenizer> r = tok.with_truncation(params);
    if (!r.ok()) raise_status(r.status());
    return PyTokenizer{std::move(r).value()};
  }

  std::optional<PyTruncation> truncation() const {
    if (!tok.truncation()) return std::nullopt;
    const auto& t = *tok.truncation();
    return PyTruncation{t.max_length, t.stride, int(t.strategy), int(t.direction)};
  }

  PyTokenizer with_padding(std::optional<PyPadding> p) const {
    std::optional<tokenmill::PaddingParams> params;
    if (p) {
      params.emplace();
      params->length = std::get<0>(*p);
      params->direction = tokenmill::PaddingParams::Direction(std::get<1>(*p));
      params->pad_to_multiple_of = std::get<2>(*p);
      params->pad_id = std::get<3>(*p);
      params->pad_type_id = std::get<4>(*p);
      params->pad_token = std::get<5>(*p);
    }
    return PyTokenizer{tok.with_padding(std::move(params))};
  }

  std::optional<PyPadding> padding() const {
    if (!tok.padding()) return std::nullopt;
    const auto& p = *tok.padding();
    return PyPadding{p.length, int(p.direction), p.pad_to_multiple_of, p.pad_id, p.pad_type_id, p.pad_token};
  }

  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens) const {
    Result<std::string> text = Status();
    {
      nb::gil_scoped_release nogil;
      text = tok.decode(ids, skip_special_tokens);
    }
    if (!text.ok()) raise_status(text.status());
    return std::move(text).value();
  }

  std::vector<std::string> decode_batch(const std::vector<std::vector<uint32_t>>& batch, bool skip) const {
    std::vector<std::span<const uint32_t>> spans(batch.begin(), batch.end());
    Result<std::vector<std::string>> texts = [&] {
      nb::gil_scoped_release nogil;
      return tok.decode_batch(spans, skip);
    }();
    if (!texts.ok()) raise_status(texts.status());
    return std::move(texts).value();
  }

  nb::dict vocab(bool with_added) const {
    nb::dict d;
    for (auto& [t, id] : tok.vocab(with_added)) d[nb::str(t.data(), t.size())] = id;
    return d;
  }

  nb::list added_tokens() const {
    nb::list l;
    for (const auto& a : tok.added_tokens()) {
      l.append(nb::make_tuple(a.id, a.content, a.single_word, a.lstrip, a.rstrip, a.normalized, a.special));
    }
    return l;
  }
};

struct PyDecodeStream {
  tokenmill::DecodeStream stream;
  // HF's step takes one id or a list of ids.
  std::optional<std::string> step(const PyTokenizer& t, nb::handle id) {
    std::vector<uint32_t> ids;
    if (nb::isinstance<nb::int_>(id)) {
      ids.push_back(nb::cast<uint32_t>(id));
    } else {
      ids = nb::cast<std::vector<uint32_t>>(id);
    }
    Result<std::optional<std::string>> r = [&] {
      nb::gil_scoped_release nogil;
      return stream.step(t.tok, ids);
    }();
    if (!r.ok()) raise_status(r.status());
    return *r;
  }
};

}  // namespace

NB_MODULE(_hf, m) {
  // A built-in encoding's tokenizer.json (fetched and verified like tiktoken's, from the same cache).
  m.def("encoding_tokenizer_json", [](const std::string& name) {
    Result<std::string> json = [&]() -> Result<std::string> {
      nb::gil_scoped_release nogil;
      auto enc = tokenmill::Encoding::load(name);
      if (!enc.ok()) return enc.status();
      return tokenmill::encoding_tokenizer_json(*enc);
    }();
    if (!json.ok()) raise_status(json.status());
    return std::move(json).value();
  });
  nb::class_<PyDecodeStream>(m, "DecodeStream")
      .def(
          "__init__",
          [](PyDecodeStream* self, std::optional<std::vector<uint32_t>> ids, bool skip_special_tokens) {
            new (self)
                PyDecodeStream{tokenmill::DecodeStream(skip_special_tokens, ids.value_or(std::vector<uint32_t>{}))};
          },
          nb::arg("ids").none() = nb::none(), nb::arg("skip_special_tokens") = false)
      .def("step", &PyDecodeStream::step);
  nb::class_<PyTokenizer>(m, "Tokenizer")
      .def_static("from_str", &PyTokenizer::from_str)
      .def_static("from_file", &PyTokenizer::from_file)
      .def_static("from_bytes", &PyTokenizer::from_bytes)
      .def("encode", &PyTokenizer::encode, nb::arg("text"), nb::arg("pair").none(), nb::arg("add_special_tokens"),
           nb::arg("fast"))
      .def("encode_words", &PyTokenizer::encode_words, nb::arg("words"), nb::arg("pair").none(),
           nb::arg("add_special_tokens"), nb::arg("fast"))
      .def("encode_batch", &PyTokenizer::encode_batch, nb::arg("input"), nb::arg("add_special_tokens"), nb::arg("fast"),
           nb::arg("pretokenized") = false)
      .def("encode_ids", &PyTokenizer::encode_ids)
      .def("ids_fused", [](const PyTokenizer& t) { return t.tok.ids_path().fused; })
      .def("with_truncation", &PyTokenizer::with_truncation, nb::arg("params").none())
      .def("truncation", &PyTokenizer::truncation)
      .def("with_padding", &PyTokenizer::with_padding, nb::arg("params").none())
      .def("padding", &PyTokenizer::padding)
      .def("with_encode_special_tokens",
           [](const PyTokenizer& t, bool on) { return PyTokenizer{t.tok.with_encode_special_tokens(on)}; })
      .def("encode_special_tokens", [](const PyTokenizer& t) { return t.tok.encode_special_tokens(); })
      .def("num_special_tokens_to_add",
           [](const PyTokenizer& t, bool is_pair) { return t.tok.num_special_tokens_to_add(is_pair); })
      .def("decode", &PyTokenizer::decode)
      .def("decode_batch", &PyTokenizer::decode_batch)
      .def("token_to_id", [](const PyTokenizer& t, const std::string& s) { return t.tok.token_to_id(s); })
      .def("id_to_token", [](const PyTokenizer& t, uint32_t id) { return t.tok.id_to_token(id); })
      .def("vocab", &PyTokenizer::vocab)
      .def("vocab_size", [](const PyTokenizer& t, bool with_added) { return t.tok.vocab_size(with_added); })
      .def("added_tokens", &PyTokenizer::added_tokens);
}
