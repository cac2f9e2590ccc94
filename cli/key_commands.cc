// reducto key generate
#include <cstdio>
#include <string>

#include "command.h"
#include "reducto/signing.h"

namespace reducto::cli {
namespace {

struct KeyGenerateCommand {
  std::string output;
  bool force = false;

  int Run(const Context& ctx) const {
    auto files = GenerateKeyFiles(output, force);
    if (!files.ok()) return Fail(files.status());
    if (!ctx.quiet) {
      std::printf("key %s\n", files->key_id.c_str());
      std::printf("secret key  %s  (mode 0600: keep it private; sign with --sign-key %s)\n",
                  files->secret_path.c_str(), files->secret_path.c_str());
      std::printf("public key  %s  (give it to verifiers: --trusted-key %s)\n",
                  files->public_path.c_str(), files->public_path.c_str());
    }
    return std::fflush(stdout) == 0 ? kExitOk : Fail(Status::Io("cannot write to stdout"));
  }
};

}  // namespace

void RegisterKeyCommands(CLI::App* app, Context& ctx) {
  auto* key = app->add_subcommand("key", "manage Ed25519 signing keys");
  key->require_subcommand(1);

  static KeyGenerateCommand generate;
  auto* gen = AddCommand(key, ctx, generate, "generate",
                         "make a key pair: NAME (secret, mode 0600) and NAME.pub (public)");
  gen->add_option("-o,--output", generate.output, "secret key file to create (NAME)")->required();
  gen->add_flag("-f,--force", generate.force, "replace an existing key pair of that name");
}

}  // namespace reducto::cli
