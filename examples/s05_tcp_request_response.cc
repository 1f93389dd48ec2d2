// S5, TCP request/response: a server answers one request per connection; a
// client sends a request and prints the answer. Start order does not matter:
// the client waits (up to --timeout) for the server to appear.
//
//   s05_tcp_request_response server [URL] [--requests N]
//   s05_tcp_request_response client [URL] MESSAGE
// URL defaults to tcp://127.0.0.1:8888.
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s05_tcp_request_response server [URL] [--requests N]\n"
    "       s05_tcp_request_response client [URL] MESSAGE [--timeout SECONDS]";
constexpr char kDefaultUrl[] = "tcp://127.0.0.1:8888";

int Server(const std::string& url, long requests) {
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("server", listener.status());
  std::cout << "server: listening on " << listener->url() << std::endl;
  for (long served = 0; requests == 0 || served < requests; ++served) {
    auto client = listener->Accept();
    if (!client.ok()) return examples::Fail("server", client.status());
    auto request = client->Receive(std::chrono::seconds(10));
    if (!request.ok()) {
      examples::Fail("server", request.status());  // One bad client only.
      continue;
    }
    std::cout << "server: got '" << *request << "'" << std::endl;
    if (auto s = client->Send("answer to '" + *request + "'"); !s.ok()) {
      examples::Fail("server", s);
    }
  }
  return 0;
}

int Client(const std::string& url, const std::string& message, double timeout_s) {
  auto server = ipc::Connect(url, std::chrono::duration<double>(timeout_s));
  if (!server.ok()) return examples::Fail("client", server.status());
  if (auto s = server->Send(message); !s.ok()) return examples::Fail("client", s);
  auto reply = server->Receive(std::chrono::duration<double>(timeout_s));
  if (!reply.ok()) return examples::Fail("client", reply.status());
  std::cout << "client: " << *reply << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const double requests = cli.NumberFlag("--requests", 0);
  const double timeout_s = cli.NumberFlag("--timeout", 10);
  int exit_code = 0;
  if (!cli.Finish(1, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  if (args[0] == "server" && args.size() <= 2) {
    return Server(args.size() > 1 ? args[1] : kDefaultUrl, static_cast<long>(requests));
  }
  if (args[0] == "client" && (args.size() == 2 || args.size() == 3)) {
    return Client(args.size() == 3 ? args[1] : kDefaultUrl, args.back(), timeout_s);
  }
  std::cerr << kUsage << "\n";
  return 2;
}
