#include "encryption_flags.h"

#include <cstdlib>

#include "reducto/io.h"

namespace reducto::cli {
namespace {

// The first line of `path` ("-" is stdin), without its line ending.
Result<std::string> ReadPassphraseFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(path));
  std::string text;
  std::vector<uint8_t> buf(4096);
  while (text.size() < 65536) {
    ASSIGN_OR_RETURN(size_t n, source->Read(buf));
    if (n == 0) break;
    text.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) text.resize(end);
  return text;
}

}  // namespace

void EncryptionFlags::Register(CLI::App* command, const std::string& key_flag) {
  const bool corpus = key_flag == "--corpus-key";
  const bool encrypt = key_flag == "--encrypt-key";
  const std::string what = command->get_name() == "build" ? "corpus" : "container";
  passphrase_flag = corpus ? "--corpus-passphrase" : "--passphrase";
  const std::string verb = corpus    ? "unlock an encrypted corpus"
                           : encrypt ? "encrypt the " + what
                                     : "decrypt an encrypted container";
  command->add_option(key_flag, key_file,
                      corpus    ? "key file that unlocks an encrypted corpus"
                      : encrypt ? "encrypt the " + what +
                                      " with this key file (`reducto key generate --symmetric "
                                      "-o FILE`)"
                                : "key file that decrypts an encrypted container");
  command->add_option(passphrase_flag + "-file", passphrase_file,
                      verb + " with the passphrase on the first line of FILE (- for stdin)");
  command->add_option(passphrase_flag + "-env", passphrase_env,
                      verb + " with the passphrase in the environment variable VAR");
}

Result<EnvelopeKey> EncryptionFlags::Load() const {
  EnvelopeKey key;
  if (passphrase_file && passphrase_env) {
    return Status::InvalidArgument(passphrase_flag + "-file and " + passphrase_flag +
                                   "-env both given: pass one");
  }
  if (key_file && (passphrase_file || passphrase_env)) {
    return Status::InvalidArgument("a key file and a passphrase both given: pass one of them");
  }
  if (key_file) {
    ASSIGN_OR_RETURN(SymmetricKey k, ReadSymmetricKeyFile(*key_file));
    key.key.emplace(std::move(k));
  }
  if (passphrase_file) {
    ASSIGN_OR_RETURN(std::string p, ReadPassphraseFile(*passphrase_file));
    key.passphrase = std::move(p);
  }
  if (passphrase_env) {
    const char* value = std::getenv(passphrase_env->c_str());
    if (value == nullptr) {
      return Status::InvalidArgument(passphrase_flag + "-env " + *passphrase_env +
                                     ": that environment variable is not set");
    }
    key.passphrase = value;
  }
  if (key.passphrase && key.passphrase->empty()) {
    return Status::InvalidArgument("the passphrase is empty: give one in the file or variable");
  }
  return key;
}

}  // namespace reducto::cli
