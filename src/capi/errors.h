// Errors across the C ABI: a Status becomes a pinned code and this thread's last
// message; no C++ exception ever crosses into the caller.
#ifndef REDUCTO_CAPI_ERRORS_H_
#define REDUCTO_CAPI_ERRORS_H_

#include <exception>
#include <new>
#include <string>

#include "capi/handles.h"
#include "reducto/reducto.h"
#include "reducto/status.h"

namespace reducto::capi {

// Records `status`'s message as this thread's last error; returns its code (REDUCTO_OK
// for OK, and the last message is left alone).
int Report(const Status& status);
// Records `message` under `code` (one of REDUCTO_E_*).
int Fail(int code, const std::string& message);
// REDUCTO_E_INVALID_HANDLE naming what `function` expected in `argument`.
int InvalidHandle(const char* function, const char* argument, HandleKind kind);

// Runs `body(function)` (returning an int code), turning exceptions into codes.
// `function` is the C function's name for messages (inside a lambda, __func__ would be
// "operator()").
template <typename Body>
int Guard(const char* function, Body&& body) noexcept {
  try {
    return body(function);
  } catch (const std::bad_alloc&) {
    return Fail(REDUCTO_E_NO_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(REDUCTO_E_INTERNAL, std::string(function) + ": internal error: " + e.what() +
                                        " (please report this bug)");
  } catch (...) {
    return Fail(REDUCTO_E_INTERNAL,
                std::string(function) + ": internal error (please report this bug)");
  }
}

}  // namespace reducto::capi

#endif  // REDUCTO_CAPI_ERRORS_H_
