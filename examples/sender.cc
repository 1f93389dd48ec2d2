// sender: connects to URL and sends each MESSAGE argument, or each line of
// stdin when there are none, as one message. Pair it with `receiver`.
//
//   seq 1 1000 | sender unix:///tmp/demo.sock
//   sender tcp://127.0.0.1:8888 hello world
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: sender URL [--timeout SECONDS] [MESSAGE...]\n"
    "  Connects to URL, waiting up to --timeout seconds (default 10) for the\n"
    "  receiver to appear, then sends each MESSAGE, or each line of stdin if\n"
    "  none is given, as one message. Exits 0 when all are sent.";

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const double timeout_s = cli.NumberFlag("--timeout", 10);
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;
  const std::string& url = cli.positional()[0];

  auto channel = ipc::Connect(url, std::chrono::duration<double>(timeout_s));
  if (!channel.ok()) return examples::Fail("sender", channel.status());

  const auto& args = cli.positional();
  if (args.size() > 1) {
    for (size_t i = 1; i < args.size(); ++i) {
      if (auto s = channel->Send(args[i]); !s.ok()) return examples::Fail("sender", s);
    }
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (auto s = channel->Send(line); !s.ok()) return examples::Fail("sender", s);
    }
  }
  // Closing a shm:// or stream channel after the last Send is safe: what was
  // sent is delivered before the receiver sees the close.
  return 0;
}
