// Python lists of token ids, for both extension modules.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tokenmill::python {

// Python ints for token ids, created once and shared: building a list of ids then costs an incref per id
// instead of an allocation (ids are below 2^20 in every real vocabulary; larger ones are created as needed).
// Only touched with the GIL held; each module has its own.
inline PyObject* py_int(uint32_t id) {
  constexpr uint32_t kIntCacheLimit = 1u << 20;
  static std::vector<PyObject*> ints;
  if (id < ints.size()) {
    PyObject* v = ints[id];
    if (v != nullptr) {
      Py_INCREF(v);
      return v;
    }
  } else if (id < kIntCacheLimit) {
    ints.resize(std::min<size_t>(kIntCacheLimit, std::max<size_t>(size_t(id) + 1, ints.size() * 2)), nullptr);
  } else {
    return PyLong_FromLong(long(id));
  }
  PyObject* v = PyLong_FromLong(long(id));
  if (v == nullptr) return nullptr;
  ints[id] = v;  // the cache keeps one reference for the life of the process
  Py_INCREF(v);
  return v;
}

inline nanobind::object to_list(const std::vector<uint32_t>& ids) {
  PyObject* list = PyList_New(Py_ssize_t(ids.size()));
  if (list == nullptr) throw nanobind::python_error();
  for (size_t i = 0; i < ids.size(); ++i) {
    PyObject* v = py_int(ids[i]);
    if (v == nullptr) {
      Py_DECREF(list);
      throw nanobind::python_error();
    }
    PyList_SET_ITEM(list, Py_ssize_t(i), v);
  }
  return nanobind::steal(list);
}

}  // namespace tokenmill::python
