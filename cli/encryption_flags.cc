#include "encryption_flags.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

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

// Reads one line from the terminal with echo off, after printing `prompt` there.
// InvalidArgument when there is no terminal.
Result<std::string> PromptLine(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return Status::InvalidArgument("no terminal to ask for the passphrase: use --passphrase-file "
                                   "or --passphrase-env");
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  termios saved{};
  bool restore = ::tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSANOW, &quiet);
  }
  std::string line;
  char c = 0;
  while (line.size() < 65536 && ::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') line.push_back(c);
  if (restore) ::tcsetattr(fd, TCSANOW, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return line;
}

// The passphrase from the terminal, asked twice when `confirm`.
Result<std::string> PromptPassphrase(bool confirm) {
  ASSIGN_OR_RETURN(std::string first, PromptLine("Passphrase: "));
  if (!confirm) return first;
  ASSIGN_OR_RETURN(std::string again, PromptLine("Passphrase again: "));
  bool same = first == again;
  sodium_memzero(again.data(), again.size());
  if (!same) return Status::InvalidArgument("the two passphrases differ: nothing was written");
  return first;
}

}  // namespace

void EncryptionFlags::Register(CLI::App* command, const std::string& key_flag_name) {
  key_flag = key_flag_name;
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
  command->add_flag(passphrase_flag + "-prompt", passphrase_prompt,
                    verb + " with a passphrase asked on the terminal (without echo)");
  confirm_prompt = encrypt;
}

std::vector<InputFile> EncryptionFlags::Files() const {
  std::vector<InputFile> files;
  if (key_file) files.push_back({key_flag, *key_file});
  if (passphrase_file) files.push_back({passphrase_flag + "-file", *passphrase_file});
  return files;
}

Result<EnvelopeKey> EncryptionFlags::Load() const {
  EnvelopeKey key;
  if (int{passphrase_file.has_value()} + int{passphrase_env.has_value()} +
          int{passphrase_prompt} > 1) {
    return Status::InvalidArgument("more than one of " + passphrase_flag + "-file, -env and " +
                                   "-prompt given: pass one");
  }
  if (key_file && (passphrase_file || passphrase_env || passphrase_prompt)) {
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
  if (passphrase_prompt) {
    ASSIGN_OR_RETURN(std::string p, PromptPassphrase(confirm_prompt));
    key.passphrase = std::move(p);
  }
  if (key.passphrase && key.passphrase->empty()) {
    return Status::InvalidArgument("the passphrase is empty: give one in the file or variable");
  }
  return key;
}

}  // namespace reducto::cli
