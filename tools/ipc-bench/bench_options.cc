#include "bench_options.h"

#include <unistd.h>

#include <charconv>
#include <string_view>

#include "ipc/url.h"

namespace bench {

const char kUsage[] =
    "usage: ipc-bench --url URL [--mode pingpong|stream] [--size BYTES]\n"
    "                 [--count N] [--warmup N] [--cpus A,B|none] [--baseline]\n"
    "                 [--floor] [--touch] [--views] [--json]\n"
    "\n"
    "Forks a second process and measures URL between the two: round-trip\n"
    "latency percentiles (pingpong) or messages and bytes per second\n"
    "(stream). The processes are pinned to CPUs A and B (default 0,1).\n"
    "--baseline also runs the same pattern on the raw system calls of the\n"
    "mechanism, in the same run, and reports the ratio. --floor adds the\n"
    "cache-line round trip between the two CPUs and one thread's memcpy\n"
    "bandwidth for the message size (warm, reused buffers), and for\n"
    "stream the channel's bandwidth as a fraction of it. For stream,\n"
    "--touch makes the sender write every byte of each message and the\n"
    "receiver read every byte, and --views sends with Loan/Commit and\n"
    "receives with ReceiveView (in place on shm://) instead of Send and\n"
    "Receive.\n"
    "BYTES takes K/M suffixes. Example:\n"
    "  ipc-bench --url shm://bench --size 64 --count 200000 --baseline\n";

namespace {

ipc::Status Bad(std::string_view flag, std::string_view why) {
  return ipc::Status(ipc::ErrorCode::kInvalidArgument,
                     std::string(flag) + ": " + std::string(why));
}

ipc::Result<long> ParseCount(std::string_view flag, std::string_view text) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    return Bad(flag, "expected a non-negative integer, got '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

ipc::Result<Options> ParseOptions(int argc, char** argv, bool* help) {
  Options o;
  *help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      *help = true;
      return o;
    }
    if (flag == "--json") { o.json = true; continue; }
    if (flag == "--baseline") { o.baseline = true; continue; }
    if (flag == "--floor") { o.floor = true; continue; }
    if (flag == "--touch") { o.touch = true; continue; }
    if (flag == "--views") { o.views = true; continue; }
    if (i + 1 >= argc) return Bad(flag, flag.substr(0, 2) == "--" ? "needs a value" : "unknown option");
    std::string_view value = argv[++i];
    if (flag == "--url") {
      o.url = std::string(value);
    } else if (flag == "--mode") {
      if (value == "pingpong") o.mode = Mode::kPingPong;
      else if (value == "stream") o.mode = Mode::kStream;
      else return Bad(flag, "expected pingpong or stream, got '" + std::string(value) + "'");
    } else if (flag == "--size") {
      auto size = ipc::ParseByteSize(value);
      if (!size.ok()) return Bad(flag, size.status().message());
      o.size = static_cast<size_t>(*size);
    } else if (flag == "--count") {
      IPC_ASSIGN_OR_RETURN(o.count, ParseCount(flag, value));
      if (o.count == 0) return Bad(flag, "must be at least 1");
    } else if (flag == "--warmup") {
      IPC_ASSIGN_OR_RETURN(o.warmup, ParseCount(flag, value));
    } else if (flag == "--cpus") {
      o.cpus.clear();
      if (value != "none") {
        const size_t comma = value.find(',');
        if (comma == std::string_view::npos) return Bad(flag, "expected A,B or none");
        IPC_ASSIGN_OR_RETURN(long a, ParseCount(flag, value.substr(0, comma)));
        IPC_ASSIGN_OR_RETURN(long b, ParseCount(flag, value.substr(comma + 1)));
        o.cpus = {static_cast<int>(a), static_cast<int>(b)};
      }
    } else {
      return Bad(flag, "unknown option");
    }
  }
  if (o.url.empty()) return Bad("--url", "is required");
  if ((o.touch || o.views) && o.mode != Mode::kStream) {
    return Bad(o.touch ? "--touch" : "--views", "applies to --mode stream only");
  }
  if (o.warmup < 0) o.warmup = std::max(100L, o.count / 10);
  return o;
}

}  // namespace bench
