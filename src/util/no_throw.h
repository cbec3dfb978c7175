// The library's exception boundary. Every public entry point that returns a Status or Result is a
// function-try-block whose handler returns exception_status, so an exception from below (std::bad_alloc
// under a memory limit, std::length_error, a std::system_error when no thread can be started) becomes an
// error value that says what was being done, instead of escaping to the caller (an abort in the CLI, a
// crash in a worker thread):
//
//   Result<Ids> Encoding::encode_ordinary(std::string_view text) const try {
//     ...
//   } catch (...) {
//     return util::exception_status([&] { return "encoding " + std::to_string(text.size()) + " bytes"; });
//   }
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "tokenmill/status.h"

namespace tokenmill::util {

// The Status for the exception being handled (call inside a catch block): kOutOfMemory for bad_alloc and
// length_error, and a system_error for EAGAIN/ENOMEM (no thread could be started) ("out of memory <what>");
// kInternal for anything else ("<what>: <e.what()>").
Status current_exception_status(std::string_view what) noexcept;

// The same, with `what` a string or a callable that builds one (so the description costs nothing until
// something fails; if even it cannot be built, the error code alone says what happened).
template <class What>
Status exception_status(What&& what) noexcept {
  if constexpr (std::invocable<What>) {
    std::string text;
    try {
      text = what();
    } catch (...) {
    }
    return current_exception_status(text);
  } else {
    return current_exception_status(std::string_view(what));
  }
}

}  // namespace tokenmill::util
