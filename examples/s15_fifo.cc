// S15, named pipe: two unrelated processes talk through a FIFO path. Python's
// version is os.mkfifo(path) in the reader, then open(path) on both sides.
//
//   s15_fifo read PATH                 # prints each message until the writer leaves
//   s15_fifo write PATH MESSAGE...     # in another shell, before or after
//
// Prints, for `write PATH hello world`:
//   reader got: hello
//   reader got: world
//
// The reader creates the FIFO (owner-only, mode 0600) and removes it when it
// is done; the writer waits up to 10 s for it to appear. A FIFO carries one
// direction only: the connecting side writes, the listening side reads.
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
  // Listen makes the FIFO; the Listener removes it again when it goes out
  // of scope at the end of this function.
  auto listener = ipc::Listen(url);
  if (!listener.ok()) return examples::Fail("reader", listener.status());
  auto writer = listener->Accept(std::chrono::seconds(30));
  if (!writer.ok()) return examples::Fail("reader", writer.status());
  for (;;) {
    auto message = writer->Receive();
    // A plain FIFO reports end-of-file once every writer has closed it;
    // libipc turns that into kClosed, after the last whole message.
    if (message.status().code() == ipc::ErrorCode::kClosed) return 0;
    if (!message.ok()) return examples::Fail("reader", message.status());
    std::cout << "reader got: " << *message << std::endl;
  }
}

int Write(const std::string& url, const std::vector<std::string>& messages) {
  // Waits for the reader to create the FIFO and open it, so the two
  // programs may be started in either order.
  auto reader = ipc::Connect(url, std::chrono::seconds(10));
  if (!reader.ok()) return examples::Fail("writer", reader.status());
  for (const std::string& message : messages) {
    // Each Send is one message: the reader gets "hello" and "world", never
    // "helloworld", though a FIFO itself is only a stream of bytes.
    const ipc::Status sent = reader->Send(message);
    if (!sent.ok()) return examples::Fail("writer", sent);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  int exit_code = 0;
  if (!cli.Finish(2, &exit_code)) return exit_code;
  const auto& args = cli.positional();
  // A path given as "name" becomes fifo://name, which libipc refuses with a
  // clear message: FIFO paths must be absolute.
  const std::string url = "fifo://" + args[1];
  if (args[0] == "read" && args.size() == 2) return Read(url);
  if (args[0] == "write" && args.size() >= 3) {
    return Write(url, std::vector<std::string>(args.begin() + 2, args.end()));
  }
  cli.Usage(&exit_code);
  return exit_code;
}
