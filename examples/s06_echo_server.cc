// S6, concurrent echo server: the server hands every connection to its own
// forked process, which sends back each message upper-cased until the
// client leaves, so many clients are served at once. Python's version is
// socketserver.ForkingTCPServer with a handler that does
// `self.request.sendall(data.upper())`.
//
//   s06_echo_server server URL [--print-url]
//   s06_echo_server client URL [MESSAGE...]   (no MESSAGE: lines of stdin)
//
// The server prints one line per connection, naming the process serving it;
// the client prints each reply. Works on any duplex URL (tcp, unix, ...).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s06_echo_server server URL [--print-url]\n"
    "       s06_echo_server client URL [MESSAGE...]\n"
    "  The server runs until stopped; --print-url prints the address to use\n"
    "  on stderr (tcp://127.0.0.1:0 picks a free port). The client sends\n"
    "  each MESSAGE (or line of stdin) and prints the upper-cased reply.";

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return text;
}

// Runs in the forked child: serves one client from start to finish.
int Serve(ipc::Channel client) {
  std::string message;
  for (;;) {
    const ipc::Status received = client.Receive(&message);
    if (received.code() == ipc::ErrorCode::kClosed) return 0;  // Client left.
    if (!received.ok()) return examples::Fail("server child", received);
    const ipc::Status sent = client.Send(Upper(message));
    if (!sent.ok()) return examples::Fail("server child", sent);
  }
}

int Server(const std::string& url, bool print_url) {
  // Ignoring SIGCHLD tells the kernel to reap finished children for us, so
  // the server never has to call wait() and no zombies pile up.
  signal(SIGCHLD, SIG_IGN);
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  if (print_url) std::cerr << listener->url() << std::endl;

  for (long connection = 1;; ++connection) {
    auto client = listener->Accept();
    if (!client.ok()) return examples::Fail("server", client.status());
    const pid_t child = fork();
    if (child < 0) {
      examples::Fail("server", ipc::ErrnoStatus("fork", errno));
      continue;  // This client is dropped; the server keeps going.
    }
    if (child == 0) {
      // The child serves the client and never accepts: it closes its copy
      // of the listener (which leaves the parent's listening socket alone).
      listener->Close();
      _exit(Serve(std::move(*client)));
    }
    // The child has its own copy of the connection; the parent lets go of
    // its copy, so the client sees the close when the child finishes.
    client->Close();
    std::cout << "server: connection " << connection << " served by process " << child
              << std::endl;
  }
}

// One round trip: sends message, prints the reply. False on failure.
bool Echo(ipc::Channel& server, const std::string& message) {
  const ipc::Status sent = server.Send(message);
  if (!sent.ok()) {
    examples::Fail("client", sent);
    return false;
  }
  auto reply = server.Receive(std::chrono::seconds(10));
  if (!reply.ok()) {
    examples::Fail("client", reply.status());
    return false;
  }
  std::cout << *reply << std::endl;
  return true;
}

int Client(const std::string& url, const std::vector<std::string>& messages) {
  auto server = ipc::Connect(url, std::chrono::seconds(10));
  if (!server.ok()) return examples::Fail("client", server.status());
  // Without MESSAGE arguments, echo lines of stdin as they are typed; the
  // connection stays open (and its server process busy) until stdin ends.
  if (messages.empty()) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!Echo(*server, line)) return 1;
    }
  }
  for (const std::string& message : messages) {
    if (!Echo(*server, message)) return 1;
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
  if (args[0] == "client") {
    return Client(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  cli.Usage(&exit_code);
  return exit_code;
}
