// S7, UDP echo: the server answers each datagram with its text upper-cased.
// UDP is best effort, so the client waits a short time for each answer and
// asks again (up to 3 times) when a datagram was lost.
//
//   s07_udp_echo server URL [--count N] [--print-url]
//   s07_udp_echo client URL MESSAGE...
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
    "       s07_udp_echo client URL MESSAGE...";

int Server(const std::string& url, long count, bool print_url) {
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  if (print_url) std::cerr << listener->url() << std::endl;
  // One channel serves every client: Send answers whoever spoke last.
  auto channel = listener->Accept();
  if (!channel.ok()) return examples::Fail("server", channel.status());
  std::string datagram;
  for (long served = 0; count == 0 || served < count; ++served) {
    if (auto s = channel->Receive(&datagram); !s.ok()) return examples::Fail("server", s);
    std::transform(datagram.begin(), datagram.end(), datagram.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (auto s = channel->Send(datagram); !s.ok()) examples::Fail("server", s);
  }
  return 0;
}

int Client(const std::string& url, const std::vector<std::string>& messages) {
  auto server = ipc::Connect(url);
  if (!server.ok()) return examples::Fail("client", server.status());
  for (const std::string& m : messages) {
    ipc::Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (last = server->Send(m); !last.ok()) break;
      auto reply = server->Receive(1s);
      last = reply.status();
      if (reply.ok()) {
        std::cout << *reply << std::endl;
        break;
      }
      if (last.code() != ipc::ErrorCode::kDeadlineExceeded) break;
    }
    if (!last.ok()) return examples::Fail("client", last);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const double count = cli.NumberFlag("--count", 0);
  const bool print_url = cli.Switch("--print-url");
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  if (args[0] == "server" && args.size() == 2) {
    return Server(args[1], static_cast<long>(count), print_url);
  }
  if (args[0] == "client" && args.size() >= 3) {
    return Client(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::cerr << kUsage << "\n";
  return 2;
}
