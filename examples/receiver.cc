// receiver: listens on (or creates) URL and prints each message it receives
// as one line. Works with every transport; pair it with `sender`.
//
//   receiver unix:///tmp/demo.sock --count 1000
//   sender 'pipe:?wfd=1' a b c | receiver 'pipe:?rfd=0'
#include <chrono>
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: receiver URL [--count N] [--timeout SECONDS] [--print-url]\n"
    "  Listens on URL (for pipe:?rfd=N, reads that descriptor), prints each\n"
    "  message received as one line, and exits 0 after N messages or when\n"
    "  the peer closes. --timeout bounds the wait for each message (needed\n"
    "  on udp://, which cannot tell that its peer has gone). --print-url\n"
    "  prints the address to connect to on stderr (tcp://...:0 picks a port).";

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const double count = cli.NumberFlag("--count", 0);
  const double timeout_s = cli.NumberFlag("--timeout", 0);
  const bool print_url = cli.Switch("--print-url");
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;
  const std::string& url = cli.positional()[0];

  ipc::Channel channel;
  if (url.rfind("pipe:", 0) == 0) {
    auto adopted = ipc::Connect(url);
    if (!adopted.ok()) return examples::Fail("receiver", adopted.status());
    channel = std::move(*adopted);
  } else {
    auto listener = ipc::Listen(url);
    if (!listener.ok()) return examples::Fail("receiver", listener.status());
    if (print_url) std::fprintf(stderr, "%s\n", listener->url().c_str());
    auto accepted = listener->Accept();
    if (!accepted.ok()) return examples::Fail("receiver", accepted.status());
    channel = std::move(*accepted);
  }

  std::string message;
  for (long received = 0; count == 0 || received < count; ++received) {
    // Each wait gets its own deadline, measured from now.
    const ipc::Deadline deadline =
        timeout_s > 0 ? ipc::Deadline(std::chrono::duration<double>(timeout_s))
                      : ipc::Deadline::Infinite();
    ipc::Status status = channel.Receive(&message, deadline);
    if (status.code() == ipc::ErrorCode::kClosed && count == 0) break;
    if (!status.ok()) return examples::Fail("receiver", status);
    std::fwrite(message.data(), 1, message.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return 0;
}
