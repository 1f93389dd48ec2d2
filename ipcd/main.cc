// ipcd: the manager daemon. See docs/ipcd.md, and `ipcd --help`.
#include <cstdio>
#include <string>

#include "daemon/log.h"
#include "daemon/options.h"
#include "loop/server.h"

int main(int argc, char** argv) {
  ipcd::InstallProtobufLogHandler();
  auto options = ipcd::ParseOptions(argc, argv);
  if (!options.ok()) {
    ipcd::LogError(options.status().message());
    return 2;
  }
  if (options->help) {
    std::fputs(ipcd::UsageText().c_str(), stdout);
    return 0;
  }
  if (options->verbose) ipcd::SetLogLevel(ipcd::LogLevel::kDebug);
  auto server = ipcd::Server::Create(*options);
  if (!server.ok()) {
    ipcd::LogError(server.status().message());
    return server.status().code() == ipc::ErrorCode::kInvalidArgument ? 2 : 1;
  }
  return (*server)->Run();
}
