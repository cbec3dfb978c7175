#include "util/no_throw.h"

#include <new>
#include <stdexcept>
#include <system_error>

namespace tokenmill::util {

Status current_exception_status(std::string_view what) noexcept {
  ErrorCode code = ErrorCode::kInternal;
  const char* detail = "unknown exception";
  try {
    throw;
  } catch (const std::bad_alloc&) {
    code = ErrorCode::kOutOfMemory;
  } catch (const std::length_error&) {
    code = ErrorCode::kOutOfMemory;
  } catch (const std::system_error& e) {
    // A thread that cannot be started (EAGAIN) is memory too: its stack could not be mapped.
    const auto c = e.code();
    if (c == std::errc::resource_unavailable_try_again || c == std::errc::not_enough_memory) {
      code = ErrorCode::kOutOfMemory;
    } else {
      detail = e.what();
    }
  } catch (const std::exception& e) {
    detail = e.what();
  } catch (...) {
  }
  try {
    if (code == ErrorCode::kOutOfMemory) {
      return Status(code, what.empty() ? std::string("out of memory") : "out of memory " + std::string(what));
    }
    return Status(code, (what.empty() ? std::string("internal error") : std::string(what)) + ": " + detail);
  } catch (...) {
    // Fits the small-string buffer: no allocation.
    return Status(code, code == ErrorCode::kOutOfMemory ? "out of memory" : "internal");
  }
}

}  // namespace tokenmill::util
