// The C ABI's objects (include/reducto/reducto.h) and the registry of live handles,
// which lets every call refuse a NULL, freed or foreign handle instead of using it.
#ifndef REDUCTO_CAPI_HANDLES_H_
#define REDUCTO_CAPI_HANDLES_H_

#include <memory>
#include <optional>
#include <string>

#include "reducto/codec.h"
#include "reducto/corpus_handle.h"
#include "reducto/session.h"
#include "../../cli/settings.h"

struct reducto_settings {
  reducto::SessionSettings settings;
};

struct reducto_session {
  std::shared_ptr<const reducto::Session> session;
};

struct reducto_params {
  // The values of the configuration keys, parsed and range-checked by the command
  // line's settings table (cli/settings.cc), so both take the same values.
  reducto::cli::Settings values;
  reducto::Profile profile = reducto::Profile::kDefault;
  bool overwrite = false;
};

struct reducto_corpus {
  std::shared_ptr<const reducto::Session> session;
  reducto::CorpusHandle corpus;
  std::string info_json;
};

namespace reducto::capi {

enum class HandleKind { kSettings, kSession, kParams, kCorpus, kCStream, kDStream };

// "a reducto_session", for messages.
const char* HandleKindName(HandleKind kind);
void Register(const void* handle, HandleKind kind);
// Removes `handle`; false (and nothing removed) when it is not live as `kind`.
bool Unregister(const void* handle, HandleKind kind);
// Whether `handle` is live as `kind` (false for NULL).
bool IsLive(const void* handle, HandleKind kind);

// The object behind a live handle of its kind, or nullptr (the caller fails with
// REDUCTO_E_INVALID_HANDLE: CheckHandle).
template <typename T>
T* Live(T* handle, HandleKind kind) {
  return IsLive(handle, kind) ? handle : nullptr;
}

// `params` or the defaults when it is NULL.
const reducto_params& ParamsOrDefault(const reducto_params* params);

}  // namespace reducto::capi

#endif  // REDUCTO_CAPI_HANDLES_H_
