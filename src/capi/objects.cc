// Settings, sessions, parameters and corpora across the C ABI.
#include <cstring>
#include <string>
#include <vector>

#include "capi/errors.h"
#include "capi/handles.h"
#include "reducto/corpus.h"
#include "reducto/reducto.h"
#include "reducto/remote.h"
#include "reducto/signing.h"

namespace reducto::capi {
namespace {

// Frees `handle` when it is live as `kind` (NULL is fine).
template <typename T>
int FreeHandle(const char* function, T* handle, HandleKind kind) {
  if (handle == nullptr) return REDUCTO_OK;
  if (!Unregister(handle, kind)) return InvalidHandle(function, "handle", kind);
  delete handle;
  return REDUCTO_OK;
}

// Makes a new object for `*out`; REDUCTO_E_INVALID_ARGUMENT when `out` is NULL.
template <typename T>
int CreateHandle(const char* function, T** out, HandleKind kind, std::unique_ptr<T> object) {
  if (out == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": the output pointer is NULL");
  *out = object.release();
  Register(*out, kind);
  return REDUCTO_OK;
}

int MissingText(const char* function, const char* what) {
  return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": `" + what + "` is NULL");
}

// A session setting or parameter that is true or false, as the command line's table
// takes booleans.
Result<bool> ParseSwitch(const std::string& key, const std::string& value) {
  Result<bool> parsed = cli::ParseBoolean(value);
  if (parsed.ok()) return parsed;
  return Status::InvalidArgument(key + " must be true or false, got '" + value + "'");
}

// Where corpora not found locally come from (reducto/remote.h). The token and CA file
// apply to the repositories added after them.
Status SetRemoteSetting(const std::string& key, const std::string& value,
                        SessionSettings* settings) {
  RemoteSettings& remote = settings->remote ? *settings->remote : settings->remote.emplace();
  if (key == "repository") {
    if (value.empty()) {
      remote.repositories.clear();
      return Status::Ok();
    }
    RepositoryConfig repository;
    repository.url = value;
    if (!remote.repositories.empty()) {
      repository.token = remote.repositories.back().token;
      repository.ca_file = remote.repositories.back().ca_file;
    }
    remote.repositories.push_back(std::move(repository));
  } else if (key == "repo_token" || key == "repo_ca_file") {
    if (remote.repositories.empty()) {
      return Status::InvalidArgument(key + " applies to a repository: set \"repository\" first");
    }
    (key == "repo_token" ? remote.repositories.back().token
                         : remote.repositories.back().ca_file) = value;
  } else if (key == "cache_dir") {
    remote.cache_dir = value;
  } else if (key == "cache_limit") {
    ASSIGN_OR_RETURN(remote.cache_limit, cli::ParseSize(value));
  } else {
    return Status::InvalidArgument("no session setting '" + key +
                                   "'; the repository keys are repository, repo_token, "
                                   "repo_ca_file, cache_dir, cache_limit");
  }
  return Status::Ok();
}

// The session settings that are not rows of the command line's table.
Status SetSessionSetting(const std::string& key, const std::string& value,
                         SessionSettings* settings) {
  if (key == "state_dir") {
    settings->state_dir = value;
  } else if (key == "audit_log") {
    settings->audit_log = value == "off" ? std::string() : value;
  } else if (key == "audit_sign_key") {
    if (value.empty() || value == "off") {
      settings->audit_sign_key.reset();
    } else {
      ASSIGN_OR_RETURN(SecretKey key_read, ReadSecretKeyFile(value));
      settings->audit_sign_key = std::make_shared<const SecretKey>(std::move(key_read));
    }
  } else if (key == "trusted_keys") {
    if (value.empty()) {
      settings->trusted_keys.clear();
    } else {
      ASSIGN_OR_RETURN(PublicKey key_read, ReadPublicKeyFile(value));
      settings->trusted_keys.push_back(key_read);
    }
  } else if (key == "skip_origin_check") {
    ASSIGN_OR_RETURN(settings->skip_origin_check, ParseSwitch(key, value));
  } else if (key == "usage") {
    ASSIGN_OR_RETURN(settings->record_usage, ParseSwitch(key, value));
  } else if (key.starts_with("repo") || key.starts_with("cache_")) {
    return SetRemoteSetting(key, value, settings);
  } else {
    return Status::InvalidArgument("no session setting '" + key +
                                   "'; the keys are state_dir, audit_log, audit_sign_key, "
                                   "trusted_keys, skip_origin_check, usage, repository, "
                                   "repo_token, repo_ca_file, cache_dir, cache_limit");
  }
  return Status::Ok();
}

// The parameters that are not rows of the command line's table, or that the C ABI
// takes elsewhere (the corpus is a handle; the policies are the session's).
Status SetParameter(const std::string& key, const std::string& value, reducto_params* params) {
  if (key == "profile") {
    ASSIGN_OR_RETURN(params->profile, ParseProfile(value));
    return Status::Ok();
  }
  if (key == "overwrite") {
    ASSIGN_OR_RETURN(params->overwrite, ParseSwitch(key, value));
    return Status::Ok();
  }
  static const char* const kTableKeys[] = {"level", "threads", "block_size", "cache_size",
                                           "max_output", "chunking.avg", "chunking.min",
                                           "chunking.max", "chunking.normalization"};
  for (const char* table_key : kTableKeys) {
    if (key == table_key) return cli::ApplySettingText(key, value, key, &params->values);
  }
  return Status::InvalidArgument(
      "no parameter '" + key + "'; the keys are profile, level, threads, block_size, "
      "cache_size, max_output, overwrite, chunking.avg, chunking.min, chunking.max, "
      "chunking.normalization (session settings such as trusted_keys go to "
      "reducto_settings_set)");
}

}  // namespace
}  // namespace reducto::capi

using reducto::capi::Fail;
using reducto::capi::Guard;
using reducto::capi::HandleKind;
using reducto::capi::InvalidHandle;
using reducto::capi::Live;
using reducto::capi::Report;

extern "C" {

unsigned reducto_version_number(void) { return REDUCTO_VERSION_NUMBER; }

const char* reducto_version_string(void) { return REDUCTO_VERSION_STRING; }

int reducto_settings_create(reducto_settings** settings) {
  return Guard(__func__, [&](const char* function) {
    auto made = std::make_unique<reducto_settings>();
    made->settings.audit_args = {"libreducto"};
    return reducto::capi::CreateHandle(function, settings, HandleKind::kSettings, std::move(made));
  });
}

int reducto_settings_free(reducto_settings* settings) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeHandle(function, settings, HandleKind::kSettings);
  });
}

int reducto_settings_set(reducto_settings* settings, const char* key, const char* value) {
  return Guard(__func__, [&](const char* function) {
    if (!Live(settings, HandleKind::kSettings)) {
      return InvalidHandle(function, "settings", HandleKind::kSettings);
    }
    if (key == nullptr) return reducto::capi::MissingText(function, "key");
    if (value == nullptr) return reducto::capi::MissingText(function, "value");
    return Report(reducto::capi::SetSessionSetting(key, value, &settings->settings));
  });
}

int reducto_session_create(const reducto_settings* settings, reducto_session** session) {
  return Guard(__func__, [&](const char* function) {
    if (settings != nullptr && !Live(settings, HandleKind::kSettings)) {
      return InvalidHandle(function, "settings", HandleKind::kSettings);
    }
    reducto::SessionSettings copied;
    if (settings != nullptr) {
      copied = settings->settings;
    } else {
      copied.audit_args = {"libreducto"};
    }
    auto made = std::make_unique<reducto_session>();
    made->session = std::make_shared<const reducto::Session>(std::move(copied));
    return reducto::capi::CreateHandle(function, session, HandleKind::kSession, std::move(made));
  });
}

int reducto_session_free(reducto_session* session) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeHandle(function, session, HandleKind::kSession);
  });
}

int reducto_params_create(reducto_params** params) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::CreateHandle(function, params, HandleKind::kParams,
                                       std::make_unique<reducto_params>());
  });
}

int reducto_params_free(reducto_params* params) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeHandle(function, params, HandleKind::kParams);
  });
}

int reducto_params_set(reducto_params* params, const char* key, const char* value) {
  return Guard(__func__, [&](const char* function) {
    if (!Live(params, HandleKind::kParams)) {
      return InvalidHandle(function, "params", HandleKind::kParams);
    }
    if (key == nullptr) return reducto::capi::MissingText(function, "key");
    if (value == nullptr) return reducto::capi::MissingText(function, "value");
    return Report(reducto::capi::SetParameter(key, value, params));
  });
}

int reducto_corpus_open(reducto_session* session, const char* path, const reducto_params* params,
                        reducto_corpus** corpus) {
  return Guard(__func__, [&](const char* function) {
    if (!Live(session, HandleKind::kSession)) {
      return InvalidHandle(function, "session", HandleKind::kSession);
    }
    if (params != nullptr && !Live(params, HandleKind::kParams)) {
      return InvalidHandle(function, "params", HandleKind::kParams);
    }
    if (path == nullptr) return reducto::capi::MissingText(function, "path");
    if (corpus == nullptr) return Fail(REDUCTO_E_INVALID_ARGUMENT, std::string(function) + ": the output pointer is NULL");
    const reducto_params& p = reducto::capi::ParamsOrDefault(params);
    auto opened = session->session->OpenCorpus(path, p.values.cache_size);
    if (!opened.ok()) return Report(opened.status());
    auto made = std::make_unique<reducto_corpus>();
    made->session = session->session;
    made->corpus = std::move(opened).value();
    made->info_json = made->corpus->info().ToJson();
    return reducto::capi::CreateHandle(function, corpus, HandleKind::kCorpus, std::move(made));
  });
}

int reducto_corpus_free(reducto_corpus* corpus) {
  return Guard(__func__, [&](const char* function) {
    return reducto::capi::FreeHandle(function, corpus, HandleKind::kCorpus);
  });
}

const char* reducto_corpus_id(const reducto_corpus* corpus) {
  if (!Live(corpus, HandleKind::kCorpus)) {
    InvalidHandle(__func__, "corpus", HandleKind::kCorpus);
    return nullptr;
  }
  return corpus->corpus->info().id.c_str();
}

const char* reducto_corpus_info_json(const reducto_corpus* corpus) {
  if (!Live(corpus, HandleKind::kCorpus)) {
    InvalidHandle(__func__, "corpus", HandleKind::kCorpus);
    return nullptr;
  }
  return corpus->info_json.c_str();
}

int reducto_corpus_build(reducto_session* session, const char* const* inputs, size_t input_count,
                         const char* out_dir, const reducto_params* params) {
  return Guard(__func__, [&](const char* function) {
    if (!Live(session, HandleKind::kSession)) {
      return InvalidHandle(function, "session", HandleKind::kSession);
    }
    if (params != nullptr && !Live(params, HandleKind::kParams)) {
      return InvalidHandle(function, "params", HandleKind::kParams);
    }
    if (out_dir == nullptr) return reducto::capi::MissingText(function, "out_dir");
    if (inputs == nullptr && input_count > 0) return reducto::capi::MissingText(function, "inputs");
    std::vector<std::string> paths;
    for (size_t i = 0; i < input_count; ++i) {
      if (inputs[i] == nullptr) return reducto::capi::MissingText(function, "inputs[i]");
      paths.emplace_back(inputs[i]);
    }
    const reducto_params& p = reducto::capi::ParamsOrDefault(params);
    reducto::CorpusBuildOptions options;
    auto chunking = reducto::cli::ChunkingOf(p.values);
    if (!chunking.ok()) return Report(chunking.status());
    options.chunking = *chunking;
    options.overwrite = p.overwrite;
    return Report(session->session->BuildCorpus(paths, out_dir, options).status());
  });
}

int reducto_corpus_verify(reducto_session* session, const char* path) {
  return Guard(__func__, [&](const char* function) {
    if (!Live(session, HandleKind::kSession)) {
      return InvalidHandle(function, "session", HandleKind::kSession);
    }
    if (path == nullptr) return reducto::capi::MissingText(function, "path");
    return Report(session->session->VerifyCorpus(path));
  });
}

}  // extern "C"
