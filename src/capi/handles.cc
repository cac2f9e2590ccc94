#include "capi/handles.h"

#include <mutex>
#include <unordered_map>

namespace reducto::capi {
namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<const void*, HandleKind> live;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // Never destroyed: handles outlive statics.
  return *registry;
}

}  // namespace

const char* HandleKindName(HandleKind kind) {
  switch (kind) {
    case HandleKind::kSettings: return "a reducto_settings";
    case HandleKind::kSession: return "a reducto_session";
    case HandleKind::kParams: return "a reducto_params";
    case HandleKind::kCorpus: return "a reducto_corpus";
    case HandleKind::kCStream: return "a reducto_cstream";
    case HandleKind::kDStream: return "a reducto_dstream";
  }
  return "a handle";
}

void Register(const void* handle, HandleKind kind) {
  Registry& registry = TheRegistry();
  std::lock_guard lock(registry.mutex);
  registry.live[handle] = kind;
}

bool Unregister(const void* handle, HandleKind kind) {
  Registry& registry = TheRegistry();
  std::lock_guard lock(registry.mutex);
  auto it = registry.live.find(handle);
  if (it == registry.live.end() || it->second != kind) return false;
  registry.live.erase(it);
  return true;
}

bool IsLive(const void* handle, HandleKind kind) {
  if (handle == nullptr) return false;
  Registry& registry = TheRegistry();
  std::lock_guard lock(registry.mutex);
  auto it = registry.live.find(handle);
  return it != registry.live.end() && it->second == kind;
}

const reducto_params& ParamsOrDefault(const reducto_params* params) {
  static const reducto_params defaults;
  return params != nullptr ? *params : defaults;
}

}  // namespace reducto::capi
