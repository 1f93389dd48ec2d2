// S15, named pipe: two unrelated processes talk through a FIFO path. The
// reader creates the FIFO (mode 0600) and removes it when done; the writer
// waits up to 10 s for it to appear.
//
//   s15_fifo read /tmp/demo.fifo       # prints each message, until the writer leaves
//   s15_fifo write /tmp/demo.fifo hello world
#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

constexpr char kUsage[] =
    "usage: s15_fifo read PATH\n"
    "       s15_fifo write PATH MESSAGE...";

int Read(const std::string& url) {
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("reader", listener.status());
  auto writer = listener->Accept(std::chrono::seconds(30));
  if (!writer.ok()) return examples::Fail("reader", writer.status());
  for (;;) {
    auto message = writer->Receive();
    if (message.status().code() == ipc::ErrorCode::kClosed) return 0;
    if (!message.ok()) return examples::Fail("reader", message.status());
    std::cout << "reader got: " << *message << std::endl;
  }
}

int Write(const std::string& url, const std::vector<std::string>& messages) {
  auto reader = ipc::Connect(url, std::chrono::seconds(10));
  if (!reader.ok()) return examples::Fail("writer", reader.status());
  for (const std::string& m : messages) {
    if (auto s = reader->Send(m); !s.ok()) return examples::Fail("writer", s);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  const std::string url = "fifo://" + args[1];
  if (args[0] == "read" && args.size() == 2) return Read(url);
  if (args[0] == "write" && args.size() >= 3) {
    return Write(url, std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::cerr << kUsage << "\n";
  return 2;
}
