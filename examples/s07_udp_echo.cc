// S7, UDP echo: the server answers each datagram with its text upper-cased.
// Python's version is a SOCK_DGRAM socket doing recvfrom / sendto(data.upper(),
// addr) in a loop.
//
//   s07_udp_echo server URL [--count N] [--print-url]
//   s07_udp_echo client URL MESSAGE...
//
// UDP is best effort: a datagram may be lost (never cut or merged), and there
// is no connection, so nothing tells either side that the other has gone and
// a client cannot wait for a server to start. The client therefore waits a
// short time for each answer and sends again, up to 3 times, when none came.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

using namespace std::chrono_literals;

constexpr char kUsage[] =
    "usage: s07_udp_echo server URL [--count N] [--print-url]\n"
    "       s07_udp_echo client URL MESSAGE...\n"
    "  The server answers N datagrams (default: until stopped); --print-url\n"
    "  prints its address on stderr (udp://127.0.0.1:0 picks a free port).\n"
    "  Start the server first: a datagram sent before it listens is lost.";

int Server(const std::string& url, long count, bool print_url) {
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  if (print_url) std::cerr << listener->url() << std::endl;
  // UDP has no connections, so a UDP listener yields exactly one channel,
  // shared by every client: Receive takes a datagram from anyone, and Send
  // answers whoever sent the last one received.
  auto clients = listener->Accept();
  if (!clients.ok()) return examples::Fail("server", clients.status());

  std::string datagram;
  for (long served = 0; count == 0 || served < count; ++served) {
    const ipc::Status received = clients->Receive(&datagram);
    if (!received.ok()) return examples::Fail("server", received);
    std::transform(datagram.begin(), datagram.end(), datagram.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    // A lost answer is the client's problem to retry; the server goes on.
    const ipc::Status sent = clients->Send(datagram);
    if (!sent.ok()) examples::Fail("server", sent);
  }
  return 0;
}

int Client(const std::string& url, const std::vector<std::string>& messages) {
  // For udp, Connect only fixes the address datagrams go to; it sends
  // nothing and so cannot wait for the server.
  auto server = ipc::Connect(url);
  if (!server.ok()) return examples::Fail("client", server.status());
  for (const std::string& message : messages) {
    ipc::Status last;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      last = server->Send(message);
      if (!last.ok()) break;
      auto answer = server->Receive(1s);
      last = answer.status();
      if (answer.ok()) {
        std::cout << *answer << std::endl;
        break;
      }
      // Only silence is worth another try. kClosed here means the system
      // said "port unreachable": nothing listens at URL.
      if (last.code() != ipc::ErrorCode::kDeadlineExceeded) break;
    }
    if (!last.ok()) return examples::Fail("client", last);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const long count = cli.CountFlag("--count", 0);
  const bool print_url = cli.Switch("--print-url");
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  if (args[0] == "server" && args.size() == 2) return Server(args[1], count, print_url);
  if (args[0] == "client" && args.size() >= 3) {
    return Client(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  cli.Usage(&exit_code);
  return exit_code;
}
