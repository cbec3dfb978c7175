// tokenmill._core's dataset part: DatasetWriter (documents pushed from Python, e.g. Parquet batches) and
// the C++ file readers, for python/tokenmill/dataset.py. The tokenizer is always built here from its name
// or model file, never from a pickled object, so a cluster worker builds exactly what the file says.
//
// Errors: Status values become Python exceptions (OSError for I/O, ValueError otherwise). The GIL is
// released while C++ reads, encodes and writes; the progress callback takes it back to call Python.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "status_error.h"
#include "tokenmill/dataset.h"
#include "tokenmill/train.h"

namespace nb = nanobind;

namespace {

using tokenmill::python::raise_status;

// A tokenizer.json file, a model file or a built-in encoding, always built from its name or file.
tokenmill::DatasetTokenizer load_tokenizer(const std::optional<std::string>& encoding,
                                           const std::optional<std::string>& model,
                                           const std::optional<std::string>& tokenizer, bool add_special_tokens) {
  if (tokenizer) {
    tokenmill::Result<tokenmill::DatasetTokenizer> t = tokenmill::Status();
    {
      nb::gil_scoped_release nogil;
      t = tokenmill::DatasetTokenizer::from_tokenizer_file(*tokenizer, add_special_tokens);
    }
    if (!t.ok()) raise_status(t.status());
    return std::move(t).value();
  }
  std::string name;
  tokenmill::Result<tokenmill::Encoding> enc = tokenmill::Status(tokenmill::ErrorCode::kInvalidArgument, "");
  {
    nb::gil_scoped_release nogil;
    if (model) {
      auto m = tokenmill::BpeModel::load_model_file(*model);
      enc = m.ok() ? m->encoding(*model) : tokenmill::Result<tokenmill::Encoding>(m.status());
      name = *model;
    } else {
      enc = tokenmill::Encoding::load(encoding.value_or("cl100k_base"));
      name = encoding.value_or("cl100k_base");
    }
  }
  if (!enc.ok()) raise_status(enc.status());
  return tokenmill::DatasetTokenizer::of(*enc, name);
}

template <class T>
T get(const nb::dict& d, const char* key, T fallback) {
  if (!d.contains(key) || d[key].is_none()) return fallback;
  return nb::cast<T>(d[key]);
}

tokenmill::TokenizeOptions to_options(const nb::dict& d, nb::object progress) {
  tokenmill::TokenizeOptions o;
  o.output_prefix = get<std::string>(d, "output", "");
  const std::string format = get<std::string>(d, "format", "megatron");
  if (format == "megatron") {
    o.format = tokenmill::ShardFormat::kMegatron;
  } else if (format == "nanogpt") {
    o.format = tokenmill::ShardFormat::kNanogpt;
  } else if (format == "llmc") {
    o.format = tokenmill::ShardFormat::kLlmc;
  } else {
    PyErr_SetString(PyExc_ValueError, ("unknown format '" + format + "': megatron, nanogpt or llmc").c_str());
    throw nb::python_error();
  }
  const std::string input = get<std::string>(d, "input_format", "auto");
  if (input == "auto") {
    o.input_format = tokenmill::DocumentFormat::kAuto;
  } else if (input == "lines") {
    o.input_format = tokenmill::DocumentFormat::kLines;
  } else if (input == "whole") {
    o.input_format = tokenmill::DocumentFormat::kWhole;
  } else if (input == "jsonl") {
    o.input_format = tokenmill::DocumentFormat::kJsonl;
  } else {
    PyErr_SetString(PyExc_ValueError, ("unknown input_format '" + input + "'").c_str());
    throw nb::python_error();
  }
  o.jsonl_field = get<std::string>(d, "field", "text");
  const std::string sep = get<std::string>(d, "separator", "eos");
  if (sep == "eos") {
    o.separator = tokenmill::Separator::kEos;
  } else if (sep == "bos") {
    o.separator = tokenmill::Separator::kBos;
  } else if (sep == "none") {
    o.separator = tokenmill::Separator::kNone;
  } else {
    PyErr_SetString(PyExc_ValueError, ("unknown separator '" + sep + "': eos, bos or none").c_str());
    throw nb::python_error();
  }
  if (d.contains("separator_id") && !d["separator_id"].is_none())
    o.separator_id = nb::cast<uint32_t>(d["separator_id"]);
  o.separator_token = get<std::string>(d, "separator_token", "");
  o.add_special_tokens = get<bool>(d, "add_special_tokens", false);
  o.shard_tokens = get<uint64_t>(d, "shard_tokens", 0);
  o.threads = get<unsigned>(d, "threads", 1);
  o.skip_bad = get<bool>(d, "skip_bad", false);
  o.resume = get<bool>(d, "resume", true);
  o.batch_bytes = std::max<size_t>(1, get<size_t>(d, "batch_bytes", size_t(1) << 20));
  o.progress_interval = get<double>(d, "progress_interval", 0.5);
  if (!progress.is_none()) {
    o.on_progress = [progress](const tokenmill::TokenizeProgress& p) {
      nb::gil_scoped_acquire gil;
      nb::dict info;
      info["input_bytes"] = p.input_bytes;
      info["input_bytes_read"] = p.input_bytes_read;
      info["documents"] = p.documents;
      info["tokens"] = p.tokens;
      info["shards"] = p.shards;
      info["seconds"] = p.seconds;
      try {
        progress(info);
      } catch (nb::python_error& e) {
        e.discard_as_unraisable("tokenmill progress callback");
      }
    };
  }
  return o;
}

nb::dict summary_dict(const tokenmill::TokenizeSummary& s) {
  nb::dict d;
  d["documents"] = s.documents;
  d["tokens"] = s.tokens;
  d["shards"] = s.shards;
  d["skipped"] = s.skipped;
  d["repaired"] = s.repaired;
  d["resumed_documents"] = s.resumed_documents;
  d["input_bytes_read"] = s.input_bytes_read;
  d["already_complete"] = s.already_complete;
  d["seconds"] = s.seconds;
  d["files"] = s.files;
  return d;
}

// A read-only view of a Python buffer (a pyarrow.Buffer), held while C++ reads it without the GIL; None is
// empty (pyarrow gives no data buffer when every string is empty).
class BufferView {
 public:
  explicit BufferView(nb::handle obj) {
    if (obj.is_none()) return;
    if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) != 0) throw nb::python_error();
    held_ = true;
  }
  ~BufferView() {
    if (held_) PyBuffer_Release(&view_);
  }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  const char* data() const { return held_ ? static_cast<const char*>(view_.buf) : ""; }
  size_t size() const { return held_ ? size_t(view_.len) : 0; }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

// A tokenizer built once from its name or file, for a process that opens many writers with it (a cluster
// worker running unit after unit would otherwise parse the same tokenizer.json for every unit). Never
// pickled: each process builds its own.
struct CoreDatasetTokenizer {
  tokenmill::DatasetTokenizer tokenizer;
  CoreDatasetTokenizer(std::optional<std::string> encoding, std::optional<std::string> model,
                       std::optional<std::string> tokenizer_file, bool add_special_tokens)
      : tokenizer(load_tokenizer(encoding, model, tokenizer_file, add_special_tokens)) {}
};

struct CoreDatasetWriter {
  std::optional<tokenmill::DatasetTokenizer> enc;
  tokenmill::TokenizeOptions options;
  std::unique_ptr<tokenmill::DatasetWriter> writer;
  uint64_t bytes = 0;

  CoreDatasetWriter(std::optional<std::string> encoding, std::optional<std::string> model,
                    std::vector<std::tuple<std::string, uint64_t>> inputs, nb::dict opts, nb::object progress,
                    std::optional<std::string> tokenizer, const CoreDatasetTokenizer* built) {
    options = to_options(opts, progress);
    if (built != nullptr) {
      if (built->tokenizer.name.empty()) {
        PyErr_SetString(PyExc_ValueError, "the tokenizer given was not built");
        throw nb::python_error();
      }
      enc = built->tokenizer;
    } else {
      enc = load_tokenizer(encoding, model, tokenizer, options.add_special_tokens);
    }
    std::vector<tokenmill::InputInfo> infos;
    for (auto& [path, size] : inputs) infos.push_back({path, size, ""});
    tokenmill::TokenizeOptions copy = options;  // copied with the GIL held: it holds the Python callback
    auto w = [&] {
      nb::gil_scoped_release nogil;
      return tokenmill::DatasetWriter::open(*enc, std::move(infos), std::move(copy));
    }();
    if (!w.ok()) raise_status(w.status());
    writer = std::make_unique<tokenmill::DatasetWriter>(std::move(w).value());
  }

  tokenmill::DatasetWriter& live() {
    if (!writer) {
      PyErr_SetString(PyExc_ValueError, "the dataset writer is finished");
      throw nb::python_error();
    }
    return *writer;
  }

  // A list of str (or bytes, taken as UTF-8 with errors="replace").
  void add_documents(nb::list docs) {
    tokenmill::DatasetWriter& w = live();
    std::vector<std::string> texts;
    texts.reserve(docs.size());
    for (nb::handle h : docs) {
      if (PyUnicode_Check(h.ptr())) {
        Py_ssize_t n = 0;
        const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
        if (p == nullptr) {
          // Lone surrogates: tiktoken's repair (utf-16 surrogatepass, then replace).
          PyErr_Clear();
          nb::object fixed = nb::steal(PyUnicode_AsEncodedString(h.ptr(), "utf-16", "surrogatepass"));
          if (!fixed.is_valid()) throw nb::python_error();
          nb::object back = nb::steal(
              PyUnicode_Decode(PyBytes_AsString(fixed.ptr()), PyBytes_Size(fixed.ptr()), "utf-16", "replace"));
          if (!back.is_valid()) throw nb::python_error();
          p = PyUnicode_AsUTF8AndSize(back.ptr(), &n);
          if (p == nullptr) throw nb::python_error();
          texts.emplace_back(p, size_t(n));  // while `back` still owns the bytes
          continue;
        }
        texts.emplace_back(p, size_t(n));
      } else if (PyBytes_Check(h.ptr())) {
        texts.emplace_back(PyBytes_AsString(h.ptr()), size_t(PyBytes_Size(h.ptr())));
      } else {
        PyErr_SetString(PyExc_TypeError, "documents must be str or bytes");
        throw nb::python_error();
      }
    }
    tokenmill::Status s;
    {
      nb::gil_scoped_release nogil;
      for (const auto& t : texts) {
        s = w.add_document(t);
        if (!s.ok()) break;
      }
    }
    if (!s.ok()) raise_status(s);
  }

  // Rows [offset, offset + length) of a pyarrow string array without nulls, read from its buffers: `offsets`
  // (int32, or int64 for large_string) into `data`. No Python str per row (to_pylist decoded every row and
  // PyUnicode_AsUTF8AndSize encoded non-ASCII ones back, all on the one producer thread), and the bytes go
  // straight into the writer's batch. Bytes that are not UTF-8 are replaced as add_documents does.
  void add_arrow_strings(nb::object offsets, nb::object data, int64_t offset, int64_t length, bool large) {
    tokenmill::DatasetWriter& w = live();
    BufferView off(offsets), bytes(data);
    const size_t width = large ? 8 : 4;
    if (offset < 0 || length < 0 || off.size() < (size_t(offset) + size_t(length) + 1) * width) {
      PyErr_SetString(PyExc_ValueError, "arrow offsets buffer too short for the rows given");
      throw nb::python_error();
    }
    auto at = [&](int64_t row) -> int64_t {
      const char* p = off.data() + size_t(row) * width;
      if (large) {
        int64_t v;
        std::memcpy(&v, p, 8);
        return v;
      }
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    };
    for (int64_t i = offset; i < offset + length; ++i) {
      if (at(i) < 0 || at(i + 1) < at(i) || size_t(at(i + 1)) > bytes.size()) {
        PyErr_SetString(PyExc_ValueError, "arrow offsets outside the data buffer");
        throw nb::python_error();
      }
    }
    tokenmill::Status s;
    {
      nb::gil_scoped_release nogil;
      for (int64_t i = offset; i < offset + length && s.ok(); ++i) {
        s = w.add_document(std::string_view(bytes.data() + at(i), size_t(at(i + 1) - at(i))));
      }
    }
    if (!s.ok()) raise_status(s);
  }

  uint64_t add_file(const std::string& path, size_t index, uint64_t begin, uint64_t end) {
    tokenmill::DatasetWriter& w = live();
    auto r = [&] {
      nb::gil_scoped_release nogil;
      return tokenmill::read_documents(path, index, bytes, options, w, begin, end);
    }();
    if (!r.ok()) raise_status(r.status());
    bytes += r.value();
    return r.value();
  }

  // Documents already encoded (a unit's output): `tokens` little-endian uint32, split by `lengths`.
  void add_encoded(nb::bytes tokens, std::vector<uint64_t> lengths) {
    tokenmill::DatasetWriter& w = live();
    const size_t n = tokens.size() / 4;
    std::vector<tokenmill::Rank> ids(n);
    std::memcpy(ids.data(), tokens.c_str(), n * 4);
    uint64_t total = 0;
    for (uint64_t len : lengths) total += len;
    if (total != n || tokens.size() % 4 != 0) {
      PyErr_SetString(PyExc_ValueError, "document lengths do not add up to the tokens given");
      throw nb::python_error();
    }
    tokenmill::Status s;
    {
      nb::gil_scoped_release nogil;
      size_t at = 0;
      for (uint64_t len : lengths) {
        s = w.add_encoded_document(std::span<const tokenmill::Rank>(ids.data() + at, size_t(len)));
        if (!s.ok()) break;
        at += size_t(len);
      }
    }
    if (!s.ok()) raise_status(s);
  }

  void add_skipped(uint64_t n) { live().add_skipped(n); }
  void add_repaired(uint64_t n) { live().add_repaired(n); }
  void add_bytes_read(uint64_t n) {
    bytes += n;
    live().set_bytes_read(bytes);
  }
  void finish_input(size_t index, std::string sha256) { live().finish_input(index, std::move(sha256)); }

  nb::dict finish() {
    tokenmill::DatasetWriter& w = live();
    auto r = [&] {
      nb::gil_scoped_release nogil;
      return w.finish();
    }();
    writer.reset();
    if (!r.ok()) raise_status(r.status());
    return summary_dict(r.value());
  }
};

}  // namespace

void register_dataset(nb::module_& m) {
  nb::class_<CoreDatasetTokenizer>(m, "CoreDatasetTokenizer")
      .def(nb::init<std::optional<std::string>, std::optional<std::string>, std::optional<std::string>, bool>(),
           nb::arg("encoding").none(), nb::arg("model").none(), nb::arg("tokenizer").none(),
           nb::arg("add_special_tokens") = false)
      .def_prop_ro("sha256", [](const CoreDatasetTokenizer& t) { return t.tokenizer.sha256; })
      .def_prop_ro("name", [](const CoreDatasetTokenizer& t) { return t.tokenizer.name; });

  nb::class_<CoreDatasetWriter>(m, "CoreDatasetWriter")
      .def(nb::init<std::optional<std::string>, std::optional<std::string>,
                    std::vector<std::tuple<std::string, uint64_t>>, nb::dict, nb::object, std::optional<std::string>,
                    const CoreDatasetTokenizer*>(),
           nb::arg("encoding").none(), nb::arg("model").none(), nb::arg("inputs"), nb::arg("options"),
           nb::arg("progress").none(), nb::arg("tokenizer").none() = nb::none(), nb::arg("built").none() = nb::none())
      .def("add_documents", &CoreDatasetWriter::add_documents, nb::arg("docs"))
      .def("add_arrow_strings", &CoreDatasetWriter::add_arrow_strings, nb::arg("offsets").none(),
           nb::arg("data").none(), nb::arg("offset"), nb::arg("length"), nb::arg("large"))
      .def("add_file", &CoreDatasetWriter::add_file, nb::arg("path"), nb::arg("index"), nb::arg("begin") = 0,
           nb::arg("end") = UINT64_MAX)
      .def("add_encoded", &CoreDatasetWriter::add_encoded, nb::arg("tokens"), nb::arg("lengths"))
      .def("add_skipped", &CoreDatasetWriter::add_skipped, nb::arg("n"))
      .def("add_repaired", &CoreDatasetWriter::add_repaired, nb::arg("n"))
      .def("add_bytes_read", &CoreDatasetWriter::add_bytes_read, nb::arg("n"))
      .def("finish_input", &CoreDatasetWriter::finish_input, nb::arg("index"), nb::arg("sha256"))
      .def("finish", &CoreDatasetWriter::finish)
      .def_prop_ro("already_complete", [](CoreDatasetWriter& w) { return w.live().already_complete(); })
      .def_prop_ro("skip_documents", [](CoreDatasetWriter& w) { return w.live().skip_documents(); })
      .def_prop_ro("tokenizer_sha256", [](CoreDatasetWriter& w) { return w.enc->sha256; });

  // What a cluster's driver records for its workers to check: the sha256 the manifest would hold, of the
  // tokenizer built from the same name or file.
  m.def(
      "dataset_tokenizer_sha256",
      [](std::optional<std::string> encoding, std::optional<std::string> model, std::optional<std::string> tokenizer) {
        return load_tokenizer(encoding, model, tokenizer, false).sha256;
      },
      nb::arg("encoding").none(), nb::arg("model").none(), nb::arg("tokenizer").none() = nb::none());

  m.def(
      "parse_jsonl_document",
      [](nb::bytes line, const std::string& field) {
        tokenmill::JsonlDocument d = tokenmill::parse_jsonl_document(
            std::string_view(static_cast<const char*>(line.c_str()), line.size()), field);
        const char* kinds[] = {"ok", "malformed", "missing_field", "field_not_string"};
        return std::make_tuple(std::string(kinds[int(d.error)]), d.message, d.text);
      },
      nb::arg("line"), nb::arg("field"));
}
