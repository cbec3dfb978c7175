// The one mapping from the library's error values to Python exceptions, shared by the extension modules.
#pragma once

#include <Python.h>
#include <nanobind/nanobind.h>

#include "tokenmill/status.h"

namespace tokenmill::python {

inline PyObject* exception_type(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIoError:
      return PyExc_OSError;
    case ErrorCode::kUnknownToken:
      return PyExc_KeyError;
    case ErrorCode::kOutOfMemory:
      return PyExc_MemoryError;
    case ErrorCode::kInternal:
      return PyExc_RuntimeError;
    default:
      return PyExc_ValueError;
  }
}

[[noreturn]] inline void raise_status(const Status& s) {
  PyErr_SetString(exception_type(s.code()), s.message().c_str());
  throw nanobind::python_error();
}

}  // namespace tokenmill::python
