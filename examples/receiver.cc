// receiver: listens on URL, accepts one sender and prints each message it
// receives as one line. Pair it with `sender`; the same two programs work
// over every transport, only the URL changes.
//
//   receiver unix:///tmp/demo.sock --count 1000
//   receiver tcp://127.0.0.1:0 --print-url      # prints the chosen port
//   sender 'pipe:?wfd=1' a b c | receiver 'pipe:?rfd=0'
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: receiver URL [--count N] [--timeout SECONDS] [--print-url]\n"
    "  Listens on URL and accepts one sender (for 'pipe:?rfd=0', reads\n"
    "  stdin instead), then prints each message received as one line.\n"
    "  Exits 0 after N messages, or, without --count, when the sender\n"
    "  closes; a sender that closes before N messages is an error.\n"
    "  --timeout bounds the wait for the sender and for each message\n"
    "  (default: wait forever). udp:// cannot tell that its sender has\n"
    "  gone and may lose datagrams: use --count and --timeout with it.\n"
    "  --print-url prints the address senders should use on stderr once\n"
    "  listening (tcp://127.0.0.1:0 lets the system pick the port).";

// The channel to read from: a listener's first peer, or for pipe: URLs,
// the inherited descriptor itself (there is nothing to listen on).
ipc::Result<ipc::Channel> Open(const std::string& url, ipc::Deadline deadline,
                               bool print_url) {
  if (url.starts_with("pipe:")) return ipc::Connect(url, deadline);
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return listener.status();
  // Printed once the name exists, so a script can wait for this line
  // instead of guessing how long listening takes.
  if (print_url) std::fprintf(stderr, "%s\n", listener->url().c_str());
  // The listener (and any socket file or FIFO it made) goes away when this
  // returns; the accepted channel lives on.
  return listener->Accept(deadline);
}

// True when another message is already waiting. fd() is readable exactly
// then, on every transport.
bool MoreWaiting(const ipc::Channel& channel) {
  pollfd p = {.fd = channel.fd(), .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const long count = cli.CountFlag("--count", 0);
  const double timeout_s = cli.NumberFlag("--timeout", 0);
  const bool print_url = cli.Switch("--print-url");
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;
  const std::string& url = cli.positional()[0];

  // Each wait gets a fresh deadline, measured from when it starts.
  auto deadline = [timeout_s]() -> ipc::Deadline {
    if (timeout_s == 0) return ipc::Deadline::Infinite();
    return std::chrono::duration<double>(timeout_s);
  };

  auto channel = Open(url, deadline(), print_url);
  if (!channel.ok()) return examples::Fail("receiver", channel.status());

  std::string message;  // Reused: Receive keeps its capacity.
  for (long received = 0; count == 0 || received < count; ++received) {
    const ipc::Status status = channel->Receive(&message, deadline());
    if (status.code() == ipc::ErrorCode::kClosed && count == 0) break;  // Done.
    if (!status.ok()) {
      std::fflush(stdout);  // What did arrive is printed before the error.
      if (count > 0) {  // Say how far we got: "... (after 3 of 5 messages)".
        std::fprintf(stderr, "receiver: %s (after %ld of %ld messages)\n",
                     status.message().c_str(), received, count);
        return 1;
      }
      return examples::Fail("receiver", status);
    }
    std::fwrite(message.data(), 1, message.size(), stdout);
    std::fputc('\n', stdout);
    // Flush when the burst is over rather than per line: 1000 queued
    // messages cost a few writes, yet a slow trickle still shows up at once.
    if (!MoreWaiting(*channel)) std::fflush(stdout);
  }
  return 0;
}
