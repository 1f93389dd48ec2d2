// S16, message queue: two unrelated processes talk through a system (POSIX)
// message queue. The receiver creates the queue and removes it when every
// sender has gone; senders wait up to 10 s for it.
//
//   s16_message_queue receive NAME        # prints each message
//   s16_message_queue send NAME MESSAGE...
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s16_message_queue receive NAME\n"
    "       s16_message_queue send NAME MESSAGE...";

int Receive(const std::string& url) {
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("receiver", listener.status());
  // Accept returns once the first sender has arrived; further senders may
  // join the same queue at any time.
  auto queue = listener->Accept(std::chrono::seconds(30));
  if (!queue.ok()) return examples::Fail("receiver", queue.status());
  for (;;) {
    auto message = queue->Receive();
    if (message.status().code() == ipc::ErrorCode::kClosed) return 0;  // All senders gone.
    if (!message.ok()) return examples::Fail("receiver", message.status());
    std::cout << "received: " << *message << std::endl;
  }
}

int Send(const std::string& url, const std::vector<std::string>& messages) {
  auto queue = ipc::Connect(url, std::chrono::seconds(10));
  if (!queue.ok()) return examples::Fail("sender", queue.status());
  for (const std::string& m : messages) {
    if (auto s = queue->Send(m); !s.ok()) return examples::Fail("sender", s);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  const std::string url = "mq:///" + args[1];
  if (args[0] == "receive" && args.size() == 2) return Receive(url);
  if (args[0] == "send" && args.size() >= 3) {
    return Send(url, std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::cerr << kUsage << "\n";
  return 2;
}
