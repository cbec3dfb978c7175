// Errors as values. Every call that can fail returns a Status or a Result<T>, and no exception crosses one
// of those calls (out of memory inside is kOutOfMemory); the CLI and the Python layer turn them into exit
// codes and exceptions. Functions that return a plain value (a string, a vector) allocate it as the
// standard library does, and report exhausted memory the same way, as std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace tokenmill {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // a malformed call: bad option, pattern that does not compile, ...
  kNotFound,           // unknown encoding name, missing cache file
  kIoError,            // a file could not be read or written
  kParseError,         // a rank file (or other input) is malformed; the message names file and line
  kDisallowedSpecial,  // text contains a special token the caller did not allow; the message names it
  kUnknownToken,       // decoding an id the vocabulary does not have; the message names the id
  kIntegrityError,     // a downloaded file does not have the expected sha256
  kOutOfMemory,        // an allocation failed (a huge input, a memory limit); the message names the input
  kInternal,           // an unexpected failure below the library (e.g. no thread could be started)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose, like std::optional
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const std::string& error() const { return status_.message(); }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace tokenmill
