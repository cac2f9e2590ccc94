// reducto chunk: the FastCDC chunks of a file, for users analysing their data.
#include "command.h"

#include <cstdio>

#include "reducto/digest.h"
#include "reducto/io.h"

namespace reducto::cli {
namespace {

struct ChunkCommand {
  ChunkingFlags chunking;
  std::string input = "-";
  bool json = false;

  Status Run(const Context& ctx) const {
    ASSIGN_OR_RETURN(Settings settings, ctx.LoadSettings());
    ASSIGN_OR_RETURN(auto params, chunking.Resolve(settings));
    ASSIGN_OR_RETURN(auto source, OpenSource(input));
    Status status = ChunkStream(params, *source, [&](uint64_t offset, std::span<const uint8_t> bytes) {
      std::string hex = ToHex(Blake3(bytes));
      if (json) {
        std::printf("{\"offset\":%llu,\"length\":%zu,\"blake3\":\"%s\"}\n",
                    static_cast<unsigned long long>(offset), bytes.size(), hex.c_str());
      } else {
        std::printf("%llu\t%zu\t%s\n", static_cast<unsigned long long>(offset), bytes.size(), hex.c_str());
      }
      if (std::ferror(stdout)) return Status::Io("cannot write to stdout");
      return Status::Ok();
    });
    if (status.ok() && std::fflush(stdout) != 0) status = Status::Io("cannot write to stdout");
    return status;
  }
};

}  // namespace

void RegisterChunkCommand(CLI::App* app, Context& ctx) {
  static ChunkCommand chunk;
  auto* cmd = AddCommand(app, ctx, chunk, "chunk", "print the FastCDC chunks of a file: offset, length, BLAKE3");
  chunk.chunking.Register(cmd);
  cmd->add_option("input", chunk.input, "file, or - for stdin")->required();
  cmd->add_flag("--json", chunk.json, "one JSON object per line");
}

}  // namespace reducto::cli
