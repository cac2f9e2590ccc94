// reducto key generate
#include <cstdio>
#include <string>

#include "command.h"
#include "reducto/encryption.h"
#include "reducto/signing.h"

namespace reducto::cli {
namespace {

struct KeyGenerateCommand {
  std::string output;
  bool force = false;
  bool symmetric = false;

  Status Run(const Context& ctx) const {
    if (symmetric) return RunSymmetric(ctx);
    ASSIGN_OR_RETURN(auto files, GenerateKeyFiles(output, force));
    if (!ctx.quiet) {
      std::printf("key %s\n", files.key_id.c_str());
      std::printf("secret key  %s  (mode 0600: keep it private; sign with --sign-key %s)\n",
                  files.secret_path.c_str(), files.secret_path.c_str());
      std::printf("public key  %s  (give it to verifiers: --trusted-key %s)\n",
                  files.public_path.c_str(), files.public_path.c_str());
    }
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Io("cannot write to stdout");
  }

  Status RunSymmetric(const Context& ctx) const {
    ASSIGN_OR_RETURN(auto id, GenerateSymmetricKeyFile(output, force));
    if (!ctx.quiet) {
      std::printf("key %s\n", id.c_str());
      std::printf("symmetric key  %s  (mode 0600: keep it private; encrypt with --encrypt-key %s, "
                  "decrypt with --decrypt-key %s)\n",
                  output.c_str(), output.c_str(), output.c_str());
    }
    return std::fflush(stdout) == 0 ? Status::Ok() : Status::Io("cannot write to stdout");
  }
};

}  // namespace

void RegisterKeyCommands(CLI::App* app, Context& ctx) {
  auto* key = app->add_subcommand("key", "manage signing (Ed25519) and encryption keys");
  key->require_subcommand(1);

  static KeyGenerateCommand generate;
  auto* gen = AddCommand(key, ctx, generate, "generate",
                         "make a key pair: NAME (secret, mode 0600) and NAME.pub (public), or "
                         "with --symmetric an encryption key file NAME (mode 0600)");
  gen->add_option("-o,--output", generate.output, "secret key file to create (NAME)")->required();
  gen->add_flag("-f,--force", generate.force, "replace an existing key pair of that name");
  gen->add_flag("--symmetric", generate.symmetric,
                "an encryption key (key-encryption key of containers) instead of a signing pair");
}

}  // namespace reducto::cli
