// sender: connects to URL and sends each MESSAGE argument, or each line of
// stdin when there are none, as one message. Pair it with `receiver`; the
// same two programs work over every transport, only the URL changes.
//
//   receiver unix:///tmp/demo.sock --count 1000 &
//   seq 1 1000 | sender unix:///tmp/demo.sock
//   sender tcp://127.0.0.1:8888 hello world
//   sender 'pipe:?wfd=1' a b c | receiver 'pipe:?rfd=0'
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: sender URL [--timeout SECONDS] [--verbose] [MESSAGE...]\n"
    "  Connects to URL, waiting up to --timeout seconds (default 10) for the\n"
    "  receiver to appear, so either program may start first. Then sends\n"
    "  each MESSAGE, or each line of stdin if none is given, as one message,\n"
    "  and exits 0 when all are sent. 'pipe:?wfd=1' writes to stdout.\n"
    "  --verbose reports on stderr when it starts waiting and what it sent.\n"
    "  udp:// is best effort: datagrams sent before the receiver listens, or\n"
    "  faster than it reads, are lost, and there is no peer to wait for.\n"
    "  Start the receiver first and keep counts small.";

// Sends one message; on failure prints why and returns false.
bool SendOne(ipc::Channel& channel, std::string_view message) {
  // No deadline: a receiver that reads slowly (say, into a pager) only
  // slows us down. A receiver that goes away gives kClosed, not a hang.
  const ipc::Status status = channel.Send(message);
  if (status.ok()) return true;
  examples::Fail("sender", status);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const double timeout_s = cli.NumberFlag("--timeout", 10);
  const bool verbose = cli.Switch("--verbose");
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;
  const std::string& url = cli.positional()[0];

  if (verbose) {
    std::cerr << "sender: connecting to " << url << " (waiting up to " << timeout_s
              << " s)" << std::endl;
  }
  // Connect waits for the listener to appear: this is what makes start
  // order irrelevant. The deadline is what keeps it from waiting forever.
  auto channel = ipc::Connect(url, std::chrono::duration<double>(timeout_s));
  if (!channel.ok()) return examples::Fail("sender", channel.status());

  long sent = 0;
  const auto& args = cli.positional();
  if (args.size() > 1) {
    for (size_t i = 1; i < args.size(); ++i, ++sent) {
      if (!SendOne(*channel, args[i])) return 1;
    }
  } else {
    std::ios::sync_with_stdio(false);  // Plain iostreams reading is slow.
    std::string line;
    for (; std::getline(std::cin, line); ++sent) {
      if (!SendOne(*channel, line)) return 1;
    }
  }
  if (verbose) std::cerr << "sender: sent " << sent << " messages to " << url << std::endl;
  // The channel closes as it goes out of scope. Everything sent before that
  // is still delivered: the receiver sees the close only after the last
  // message (on udp, which has no close, it stops at --count or --timeout).
  return 0;
}
