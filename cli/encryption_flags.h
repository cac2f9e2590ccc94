// --encrypt-key / --decrypt-key FILE and --passphrase-file FILE / --passphrase-env VAR
// for containers and corpus build, and --corpus-key FILE / --corpus-passphrase-file
// FILE / --corpus-passphrase-env VAR for the commands that read an encrypted corpus
// (docs/encryption.md). A passphrase never comes from the command line itself.
#ifndef REDUCTO_CLI_ENCRYPTION_FLAGS_H_
#define REDUCTO_CLI_ENCRYPTION_FLAGS_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "file_arguments.h"
#include "reducto/encryption.h"
#include "reducto/status.h"

namespace reducto::cli {

struct EncryptionFlags {
  std::optional<std::string> key_file;
  std::optional<std::string> passphrase_file;
  std::optional<std::string> passphrase_env;
  bool passphrase_prompt = false;
  bool confirm_prompt = false;                   // Ask twice (when encrypting).
  std::string passphrase_flag = "--passphrase";  // Set by Register; for messages.
  std::string key_flag = "--encrypt-key";        // Set by Register; for messages.

  // `key_flag_name` is "--encrypt-key" (a container or corpus build), "--decrypt-key" (a
  // container) or "--corpus-key" (an encrypted corpus, with --corpus-passphrase-*).
  void Register(CLI::App* command, const std::string& key_flag_name);
  // The key the flags name; empty when none was given. InvalidArgument when both a key
  // file and a passphrase are given or the passphrase is empty.
  Result<EnvelopeKey> Load() const;
  // The files Load() reads (the key file, the passphrase file), each with its flag, for
  // CheckOneStdinReader.
  std::vector<InputFile> Files() const;
};

}  // namespace reducto::cli

#endif  // REDUCTO_CLI_ENCRYPTION_FLAGS_H_
