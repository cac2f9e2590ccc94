// Errors as values. A Status is cheap to copy when OK; a Result<T> holds either a
// value or a non-OK Status. Neither may be ignored.
//
// Thread safety: distinct objects may be used from different threads freely.
#ifndef REDUCTO_STATUS_H_
#define REDUCTO_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace reducto {

// The canonical codes. Pick the most specific one; the message says what happened and
// what the user can do next.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,  // The caller passed something malformed or out of range.
  kNotFound = 2,         // A named file, corpus or key does not exist.
  kCorrupt = 3,          // Bytes do not parse as the format they claim to be.
  kIntegrity = 4,        // Bytes parse but a digest, checksum or bound disagrees.
  kIo = 5,               // The operating system refused a read, write or rename.
  kUnavailable = 6,      // A resource exists but cannot be used now (e.g. a lock).
  kPermission = 7,       // Access denied, or a trust policy refused the input.
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corrupt(std::string msg) { return {StatusCode::kCorrupt, std::move(msg)}; }
  static Status Integrity(std::string msg) { return {StatusCode::kIntegrity, std::move(msg)}; }
  static Status Io(std::string msg) { return {StatusCode::kIo, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Permission(std::string msg) { return {StatusCode::kPermission, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(const std::string& prefix) const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

const char* StatusCodeName(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok()
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace reducto

#define REDUCTO_CONCAT_INNER_(a, b) a##b
#define REDUCTO_CONCAT_(a, b) REDUCTO_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::reducto::Status reducto_status_ = (expr);        \
    if (!reducto_status_.ok()) return reducto_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its Status.
// It expands to several statements: never use it as the unbraced body of an if.
#define ASSIGN_OR_RETURN(decl, expr) \
  ASSIGN_OR_RETURN_IMPL_(REDUCTO_CONCAT_(reducto_result_, __LINE__), decl, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return tmp.status();           \
  decl = std::move(tmp).value()

#endif  // REDUCTO_STATUS_H_
