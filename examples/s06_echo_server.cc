// S6, concurrent echo server: every connection is served by its own forked
// process, which sends back each message upper-cased until the client
// leaves. Several clients can talk at once.
//
//   s06_echo_server server URL [--print-url]
//   s06_echo_server client URL MESSAGE...
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s06_echo_server server URL [--print-url]\n"
    "       s06_echo_server client URL MESSAGE...";

// Runs in the forked child: one client, start to finish.
int Serve(ipc::Channel client) {
  std::string message;
  for (;;) {
    ipc::Status s = client.Receive(&message);
    if (s.code() == ipc::ErrorCode::kClosed) return 0;  // Client is done.
    if (!s.ok()) return examples::Fail("server child", s);
    std::transform(message.begin(), message.end(), message.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (s = client.Send(message); !s.ok()) return examples::Fail("server child", s);
  }
}

int Server(const std::string& url, bool print_url) {
  // Children are reaped automatically; the server only accepts.
  signal(SIGCHLD, SIG_IGN);
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  if (print_url) std::cerr << listener->url() << std::endl;
  for (;;) {
    auto client = listener->Accept();
    if (!client.ok()) return examples::Fail("server", client.status());
    if (fork() == 0) {
      listener->Close();
      _exit(Serve(std::move(*client)));
    }
    client->Close();  // The child has it now.
  }
}

int Client(const std::string& url, const std::vector<std::string>& messages) {
  auto server = ipc::Connect(url, std::chrono::seconds(10));
  if (!server.ok()) return examples::Fail("client", server.status());
  for (const std::string& m : messages) {
    if (auto s = server->Send(m); !s.ok()) return examples::Fail("client", s);
    auto reply = server->Receive(std::chrono::seconds(10));
    if (!reply.ok()) return examples::Fail("client", reply.status());
    std::cout << *reply << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const bool print_url = cli.Switch("--print-url");
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  if (args[0] == "server" && args.size() == 2) return Server(args[1], print_url);
  if (args[0] == "client" && args.size() >= 3) {
    return Client(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::cerr << kUsage << "\n";
  return 2;
}
