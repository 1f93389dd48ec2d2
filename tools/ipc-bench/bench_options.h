// Command-line options of ipc-bench and their parsing.
#ifndef IPC_TOOLS_IPC_BENCH_BENCH_OPTIONS_H_
#define IPC_TOOLS_IPC_BENCH_BENCH_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "ipc/result.h"

namespace bench {

enum class Mode { kPingPong, kStream };

struct Options {
  std::string url;
  Mode mode = Mode::kPingPong;
  size_t size = 64;
  long count = 100000;
  long warmup = -1;          // -1: a tenth of count, at least 100.
  bool json = false;
  bool baseline = false;
  bool floor = false;        // Also measure the cache-line round trip and memcpy.
  // Stream: the sender writes every byte of each message and the receiver
  // reads every byte, as real producers and consumers do.
  bool touch = false;
  // Stream: Loan/Commit and ReceiveView instead of Send and Receive.
  bool views = false;
  std::vector<int> cpus = {0, 1};  // Empty: do not pin.
};

extern const char kUsage[];

// Parses argv; kInvalidArgument naming the offending flag or value. Sets
// *help when --help was given.
ipc::Result<Options> ParseOptions(int argc, char** argv, bool* help);

}  // namespace bench

#endif  // IPC_TOOLS_IPC_BENCH_BENCH_OPTIONS_H_
