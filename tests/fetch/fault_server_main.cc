// reducto-fault-server: tests/fetch/fault_server.h as a process, for shell tests.
//
//   reducto-fault-server --dir DIR [--port N] [--port-file FILE]
//                        [--fault MODE[:ARG]] [--times K] [--token T]
//
// Serves DIR on 127.0.0.1 until SIGTERM or SIGINT. The port (chosen by the OS unless
// --port) is written to FILE, atomically, once the server listens: wait for the file.
// --times K applies the fault to the next K requests (default: all of them). Prints
// nothing to stdout; errors go to stderr with exit status 2.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "fetch/fault_server.h"

namespace {

struct Flags {
  std::string dir;
  std::string port_file;
  int port = 0;
  std::string fault = "none";
  int fault_arg = 0;
  int times = -1;
  std::string token;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "reducto-fault-server: %s\n", message.c_str());
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Fail(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--dir") {
      flags.dir = value;
    } else if (flag == "--port-file") {
      flags.port_file = value;
    } else if (flag == "--port") {
      flags.port = std::atoi(value.c_str());
    } else if (flag == "--fault") {
      size_t colon = value.find(':');
      flags.fault = value.substr(0, colon);
      if (colon != std::string::npos) flags.fault_arg = std::atoi(value.c_str() + colon + 1);
    } else if (flag == "--times") {
      flags.times = std::atoi(value.c_str());
    } else if (flag == "--token") {
      flags.token = value;
    } else {
      Fail("unknown flag " + flag + " (use --dir, --port, --port-file, --fault, --times, --token)");
    }
  }
  if (flags.dir.empty()) Fail("--dir DIR is required");
  return flags;
}

void WritePortFile(const std::string& path, int port) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << port << "\n";
    if (!out) Fail("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) Fail("cannot rename " + temporary);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  auto fault = reducto::testing::ParseFault(flags.fault);
  if (!fault.ok()) Fail(fault.status().message());
  // Blocked before any thread starts, so that only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  reducto::testing::FaultServer server(flags.dir);
  server.Inject(*fault, flags.fault_arg, flags.times);
  server.RequireToken(flags.token);
  reducto::Status started = server.Start(flags.port);
  if (!started.ok()) Fail(started.message());
  if (!flags.port_file.empty()) WritePortFile(flags.port_file, server.port());
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Stop();
  return 0;
}
