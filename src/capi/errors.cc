#include "capi/errors.h"

namespace reducto::capi {

// Report() passes a Status's code through as the C code: the pinned values 1..7 of
// reducto.h must stay the StatusCode values.
static_assert(REDUCTO_E_INVALID_ARGUMENT == static_cast<int>(StatusCode::kInvalidArgument) &&
              REDUCTO_E_NOT_FOUND == static_cast<int>(StatusCode::kNotFound) &&
              REDUCTO_E_CORRUPT == static_cast<int>(StatusCode::kCorrupt) &&
              REDUCTO_E_INTEGRITY == static_cast<int>(StatusCode::kIntegrity) &&
              REDUCTO_E_IO == static_cast<int>(StatusCode::kIo) &&
              REDUCTO_E_UNAVAILABLE == static_cast<int>(StatusCode::kUnavailable) &&
              REDUCTO_E_PERMISSION == static_cast<int>(StatusCode::kPermission));

namespace {

thread_local std::string last_error_message;

}  // namespace

int Report(const Status& status) {
  if (status.ok()) return REDUCTO_OK;
  last_error_message = status.message();
  return static_cast<int>(status.code());
}

int Fail(int code, const std::string& message) {
  last_error_message = message;
  return code;
}

int InvalidHandle(const char* function, const char* argument, HandleKind kind) {
  return Fail(REDUCTO_E_INVALID_HANDLE,
              std::string(function) + ": `" + argument + "` is not " + HandleKindName(kind) +
                  " that is live (NULL, already freed, or another kind of handle)");
}

}  // namespace reducto::capi

extern "C" {

const char* reducto_error_name(int code) {
  switch (code) {
    case REDUCTO_OK: return "ok";
    case REDUCTO_E_INVALID_ARGUMENT: return "invalid_argument";
    case REDUCTO_E_NOT_FOUND: return "not_found";
    case REDUCTO_E_CORRUPT: return "corrupt";
    case REDUCTO_E_INTEGRITY: return "integrity";
    case REDUCTO_E_IO: return "io";
    case REDUCTO_E_UNAVAILABLE: return "unavailable";
    case REDUCTO_E_PERMISSION: return "permission";
    case REDUCTO_E_INVALID_HANDLE: return "invalid_handle";
    case REDUCTO_E_BUFFER_TOO_SMALL: return "buffer_too_small";
    case REDUCTO_E_CALLBACK: return "callback";
    case REDUCTO_E_STATE: return "state";
    case REDUCTO_E_NO_MEMORY: return "no_memory";
    case REDUCTO_E_INTERNAL: return "internal";
    default: return "unknown";
  }
}

const char* reducto_error_remedy(int code) {
  switch (code) {
    case REDUCTO_OK: return "";
    case REDUCTO_E_INVALID_ARGUMENT:
      return "Correct the argument the message names; the header and docs/api.md list what "
             "each function takes.";
    case REDUCTO_E_NOT_FOUND:
      return "Check the path or corpus id the message names; build the corpus (reducto corpus "
             "build) or copy it here, and open the one the container names.";
    case REDUCTO_E_CORRUPT:
      return "The input is damaged or not what it claims to be: get a fresh copy of it (for a "
             "corpus, `reducto corpus verify` says what is wrong).";
    case REDUCTO_E_INTEGRITY:
      return "Bytes changed after they were written, or the container was made against another "
             "corpus: get a fresh copy, and check with `reducto corpus verify`.";
    case REDUCTO_E_IO:
      return "Check free space, permissions and the device the message names, then retry.";
    case REDUCTO_E_UNAVAILABLE:
      return "Something else holds the resource (a lock, an output name that appeared): wait "
             "for it or choose another name, then retry.";
    case REDUCTO_E_PERMISSION:
      return "Trust the corpus (a trusted_keys setting with its signer's public key, or build it "
             "in this session's state directory), or fix the file permissions named.";
    case REDUCTO_E_INVALID_HANDLE:
      return "Pass a handle that reducto_*_create or reducto_corpus_open gave and that was not "
             "freed yet.";
    case REDUCTO_E_BUFFER_TOO_SMALL:
      return "Call again with an output buffer of at least the size returned in *dst_size, or "
             "use the streaming functions.";
    case REDUCTO_E_CALLBACK:
      return "Your read or write callback reported a failure: see what it returned.";
    case REDUCTO_E_STATE:
      return "Calls came out of order: create a new stream for a new operation.";
    case REDUCTO_E_NO_MEMORY:
      return "Free memory, or lower the threads and cache_size parameters.";
    case REDUCTO_E_INTERNAL:
      return "This is a bug in Reducto: report it with the message.";
    default:
      return "Not a Reducto error code.";
  }
}

const char* reducto_last_error_message(void) {
  return reducto::capi::last_error_message.c_str();
}

}  // extern "C"
