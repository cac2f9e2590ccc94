// reducto serve: a corpus repository read-only over HTTP (reducto/serve.h, docs/serve.md).
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "command.h"
#include "reducto/serve.h"

namespace reducto::cli {
namespace {

// "http://HOST:PORT" from the --listen text with the port actually bound.
std::string ServingUrl(const std::string& listen, int port) {
  return "http://" + listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
}

// Written whole or not at all (a temporary file renamed over it), so a script polling
// for the file never reads half a number.
Status WritePortFile(const std::string& path, int port) {
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return Status::Io("cannot write the port file " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return Status::Io("cannot rename " + temp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

struct ServeCommand {
  std::string store;
  std::string listen;
  std::string token_file;
  std::string port_file;
  size_t threads = 8;
  bool metrics_public = false;

  Status Run(const Context& ctx) const {
    StoreServerOptions options;
    options.store_dir = store;
    options.listen = listen;
    options.max_threads = threads;
    options.metrics_public = metrics_public;
    if (!token_file.empty()) {
      ASSIGN_OR_RETURN(options.bearer_tokens, ReadBearerTokenFile(token_file));
    }
    if (ctx.verbose) {
      options.access_log = [](const std::string& line) {
        std::fprintf(stderr, "reducto serve: %s\n", line.c_str());
      };
    }
    // SIGINT and SIGTERM are taken by sigwait below, not by the handlers main() installs
    // (they exit at once): blocked here, before the server's threads exist, so that
    // every thread inherits the mask and the signal reaches this one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    ASSIGN_OR_RETURN(std::unique_ptr<StoreServer> server, StoreServer::Create(options));
    ASSIGN_OR_RETURN(int port, server->Start());
    if (!port_file.empty()) RETURN_IF_ERROR(WritePortFile(port_file, port));
    if (!ctx.quiet) {
      std::fprintf(stderr, "reducto serve: serving %s on %s\n", store.c_str(),
                   ServingUrl(listen, port).c_str());
    }
    WaitForStopSignal(stop_signals, *server);
    server->Stop();
    server->Wait();
    if (!ctx.quiet) std::fprintf(stderr, "reducto serve: stopped\n");
    return Status::Ok();
  }

  // Returns on SIGINT, SIGTERM or SIGHUP, or when the server stopped by itself.
  static void WaitForStopSignal(const sigset_t& signals, const StoreServer& server) {
    const timespec poll{1, 0};
    while (server.IsRunning()) {
      if (sigtimedwait(&signals, nullptr, &poll) > 0) return;
    }
  }
};

}  // namespace

void RegisterServeCommand(CLI::App* app, Context& ctx) {
  static ServeCommand serve;
  auto* cmd = AddCommand(app, ctx, serve, "serve",
                         "serve a corpus repository directory read-only over HTTP (GET and "
                         "HEAD, byte ranges) until SIGINT or SIGTERM");
  cmd->add_option("--store", serve.store, "the repository's base directory (DIR)")->required();
  cmd->add_option("--listen", serve.listen,
                  "HOST:PORT to listen on; port 0 picks a free one (ADDR)")
      ->required();
  cmd->add_option("--token-file", serve.token_file,
                  "require \"Authorization: Bearer <token>\" with a token from FILE (one a "
                  "line, # comments)");
  cmd->add_option("--threads", serve.threads, "threads serving connections (default 8)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--port-file", serve.port_file,
                  "write the port listened on to FILE once serving (for scripts)");
  cmd->add_flag("--metrics-public", serve.metrics_public,
                "answer GET /metrics without a token even with --token-file");
}

}  // namespace reducto::cli
