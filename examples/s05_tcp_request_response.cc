// S5, TCP request/response: a server accepts a connection, reads one
// request and answers it; a client sends a request and prints the answer.
// Python's version is socket.bind(('localhost', 8888)) / listen / accept /
// recv / sendall, and connect / sendall / recv on the client side.
//
// With libipc the start order does not matter: ipc::Connect waits (up to a
// deadline) for the server to appear, so the client may be started first.
//
//   s05_tcp_request_response server [URL] [--requests N]
//   s05_tcp_request_response client [URL] MESSAGE [--timeout SECONDS]
//
// URL defaults to tcp://localhost:8888. Prints, for `client hi`:
//   client: connecting to tcp://localhost:8888
//   client: got 'answer to hi'
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s05_tcp_request_response server [URL] [--requests N]\n"
    "       s05_tcp_request_response client [URL] MESSAGE [--timeout SECONDS]\n"
    "  URL defaults to tcp://localhost:8888. The server answers N requests\n"
    "  (default: until stopped); the client waits up to --timeout seconds\n"
    "  (default 10) for the server, sends MESSAGE and prints the answer.";
constexpr char kDefaultUrl[] = "tcp://localhost:8888";

int Server(const std::string& url, long requests) {
  // Listen binds and listens; the listener's url() carries the real port
  // when the URL asked for port 0.
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  std::cout << "server: listening on " << listener->url() << std::endl;

  for (long served = 0; requests == 0 || served < requests; ++served) {
    // Each Accept returns a Channel to one client: one request, one answer.
    auto client = listener->Accept();
    if (!client.ok()) return examples::Fail("server", client.status());
    // A client that connects and says nothing must not stall the server
    // forever, hence the deadline. A failing client is reported and the
    // server carries on with the next one.
    auto request = client->Receive(std::chrono::seconds(10));
    if (!request.ok()) {
      examples::Fail("server", request.status());
      continue;
    }
    std::cout << "server: got '" << *request << "'" << std::endl;
    const ipc::Status answered = client->Send("answer to " + *request);
    if (!answered.ok()) examples::Fail("server", answered);
  }  // The client channel closes here, at the end of each iteration.
  return 0;
}

int Client(const std::string& url, const std::string& message, double timeout_s) {
  // Printed before connecting, so you can see the client wait for a server
  // that is not up yet (and a test can tell that it is waiting).
  std::cout << "client: connecting to " << url << std::endl;
  const auto timeout = std::chrono::duration<double>(timeout_s);
  auto server = ipc::Connect(url, timeout);
  if (!server.ok()) return examples::Fail("client", server.status());

  // One message each way. Message boundaries are kept: the server receives
  // exactly the bytes of one Send, however TCP splits them on the wire.
  if (auto sent = server->Send(message); !sent.ok()) return examples::Fail("client", sent);
  auto answer = server->Receive(timeout);
  if (!answer.ok()) return examples::Fail("client", answer.status());
  std::cout << "client: got '" << *answer << "'" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const long requests = cli.CountFlag("--requests", 0);
  const double timeout_s = cli.NumberFlag("--timeout", 10);
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;

  const auto& args = cli.positional();
  const std::string& role = args[0];
  if (role == "server" && args.size() <= 2) {
    return Server(args.size() == 2 ? args[1] : kDefaultUrl, requests);
  }
  if (role == "client" && (args.size() == 2 || args.size() == 3)) {
    return Client(args.size() == 3 ? args[1] : kDefaultUrl, args.back(), timeout_s);
  }
  cli.Usage(&exit_code);
  return exit_code;
}
