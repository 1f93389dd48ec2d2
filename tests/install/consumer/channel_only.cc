// A channel-only service, with the narrow headers README.md names: these
// must compile without Protobuf's headers (install_consumer_test.sh checks
// that none is included).
#include <ipc/channel.h>
#include <ipc/manager.h>
#include <ipc/sync.h>

#include <iostream>

int main() {
  auto pipe = ipc::Pipe();
  if (!pipe.ok()) {
    std::cerr << pipe.status() << "\n";
    return 1;
  }
  auto& [a, b] = *pipe;
  if (auto s = a.Send("ping"); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  auto message = b.Receive(std::chrono::seconds(5));
  if (!message.ok()) {
    std::cerr << message.status() << "\n";
    return 1;
  }
  std::cout << "consumer: " << *message << "\n";
  return 0;
}
