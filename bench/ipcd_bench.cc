// ipcd-bench: load on a running ipcd through ipc::Manager, in the shapes
// redis-benchmark uses, so bench/run_ipcd.sh can put the two side by side.
//
//   ipcd-bench [--url URL] [--op OP] [--clients N] [--requests N]
//              [--pipeline P | --batch B] [--spin-us N] [--keys K]
//              [--latency-file FILE] [--event-loop] [--socket-only]
//
// OP is counter-add (Counter.Add(1)), dict-set (Dict.Set with a 3-byte
// value, as redis-benchmark's SET), dict-get, or locked-increment (a dict's
// 'count' read and written under a Lock: what Python code does with a
// Manager). --clients forks that many processes, each with its own
// connection, sharing --requests between them (like redis-benchmark -c and
// -n). --pipeline P sends P requests before reading their replies (like
// redis-benchmark -P); --batch B sends B calls as one Batch request, which
// the daemon applies in one step. --spin-us sets ManagerOptions::reply_spin
// (default: the Manager's default). --keys K makes dict-set write K
// distinct keys, "key:000000000000" upwards (request i of the run writes
// key i mod K), as a bulk load for restart tests; without it every
// request sets the same key. --latency-file writes, for a synchronous
// single client, one line per request: its start (Unix time, seconds)
// and its round trip in µs, so a script can find the requests that ran
// during some event (a snapshot) in the daemon's log.
// --event-loop drives the --clients connections from this one process
// with epoll, as redis-benchmark does (bench/event_loop_load.h; counter-add,
// dict-set and dict-get, --pipeline, --keys), instead of one process with
// its own ipc::Manager per client.
// --socket-only keeps each Manager on a unix:// socket
// (ManagerOptions::shared_memory = false) instead of moving to the shared
// memory the daemon offers.
// Prints one JSON line: requests per second over the
// whole run, and with one client and no pipeline the p50, p99, p99.9 and
// longest round trips.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "event_loop_load.h"
#include "ipc/manager.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUsage[] =
    "usage: ipcd-bench [--url URL] [--op counter-add|dict-set|dict-get|"
    "locked-increment]\n"
    "                  [--clients N] [--requests N] [--pipeline P | --batch B]\n"
    "                  [--spin-us N] [--keys K] [--latency-file FILE]\n"
    "                  [--event-loop]\n";

struct Options {
  std::string url;
  std::string op = "counter-add";
  long clients = 1;
  long requests = 100000;
  long pipeline = 1;
  long batch = 1;
  long spin_us = -1;  // -1: ManagerOptions' default.
  long keys = 0;      // 0: dict-set always sets "key".
  std::string latency_file;
  bool event_loop = false;
  bool socket_only = false;
};

bool ParseLong(const char* text, long min, long* out) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min) return false;
  *out = value;
  return true;
}

bool Parse(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--event-loop") {
      options->event_loop = true;
      continue;
    }
    if (flag == "--socket-only") {
      options->socket_only = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (flag == "--url") options->url = value;
    else if (flag == "--op") options->op = value;
    else if (flag == "--clients") { if (!ParseLong(value, 1, &options->clients)) return false; }
    else if (flag == "--requests") { if (!ParseLong(value, 1, &options->requests)) return false; }
    else if (flag == "--pipeline") { if (!ParseLong(value, 1, &options->pipeline)) return false; }
    else if (flag == "--spin-us") { if (!ParseLong(value, 0, &options->spin_us)) return false; }
    else if (flag == "--batch") { if (!ParseLong(value, 1, &options->batch)) return false; }
    else if (flag == "--keys") { if (!ParseLong(value, 1, &options->keys)) return false; }
    else if (flag == "--latency-file") options->latency_file = value;
    else return false;
  }
  if (options->pipeline > 1 && options->batch > 1) return false;
  if (options->event_loop &&
      (options->batch > 1 || options->op == "locked-increment" ||
       !options->latency_file.empty() || options->url.rfind("unix://", 0) != 0)) {
    return false;  // What the event loop does not do (and it needs a unix:// URL).
  }
  return options->op == "counter-add" || options->op == "dict-set" ||
         options->op == "dict-get" || options->op == "locked-increment";
}

// The key request `index` of the run sets (see --keys).
std::string KeyFor(const Options& options, long index) {
  if (options.keys == 0) return "key";
  char key[32];
  std::snprintf(key, sizeof(key), "key:%012ld", index % options.keys);
  return key;
}

// Adds one call of the benchmarked operation to a batch; index is the
// request's number in the run.
void AddCall(const Options& options, long index, ipc::ManagerBatch& batch) {
  if (options.op == "counter-add") batch.CounterAdd("bench:counter", 1);
  else if (options.op == "dict-set") batch.DictSet("bench:dict", KeyFor(options, index), "xxx");
  else batch.DictGet("bench:dict", "key");
}

// The benchmarked synchronous operation, with its proxies made once.
std::function<ipc::Status()> MakeOp(const Options& options, long first,
                                    ipc::Manager& manager) {
  auto counter = manager.Counter("bench:counter");
  auto dict = manager.Dict("bench:dict");
  if (options.op == "counter-add") {
    return [counter]() mutable { return counter.Add(1).status(); };
  }
  if (options.op == "dict-set" && options.keys > 0) {
    return [dict, &options, index = first]() mutable {
      return dict.Set(KeyFor(options, index++), "xxx");
    };
  }
  if (options.op == "dict-set") {
    return [dict]() mutable { return dict.Set("key", "xxx"); };
  }
  if (options.op == "dict-get") {
    return [dict]() { return dict.Get("key").status(); };
  }
  auto lock = manager.Lock("bench:lock");
  return [lock, dict]() mutable -> ipc::Status {
    auto guard = lock.Acquire();
    if (!guard.ok()) return guard.status();
    auto count = dict.Get("count", int64_t{0});
    if (!count.ok()) return count.status();
    const int64_t* n = count->if_int();
    return dict.Set("count", (n ? *n : 0) + 1);
  };
}

// One client's share of the requests, numbered from first; fills
// latencies (µs) and their start times (Unix seconds) when asked.
bool RunClient(const Options& options, long first, long requests,
               std::vector<double>* latencies, std::vector<double>* starts) {
  ipc::ManagerOptions manager_options{.client_name = "ipcd-bench",
                                      .shared_memory = !options.socket_only};
  if (options.spin_us >= 0) {
    manager_options.reply_spin = std::chrono::microseconds(options.spin_us);
  }
  auto manager = ipc::Manager::Connect(options.url, manager_options);
  if (!manager.ok()) {
    std::fprintf(stderr, "ipcd-bench: %s\n", manager.status().ToString().c_str());
    return false;
  }
  const long group = std::max(options.pipeline, options.batch);
  if (group > 1) {
    ipc::ManagerBatch batch = manager->Batch();
    for (long done = 0; done < requests; done += group) {
      batch.clear();
      for (long i = 0; i < std::min(group, requests - done); ++i) {
        AddCall(options, first + done + i, batch);
      }
      auto replies = options.batch > 1 ? batch.Run() : batch.RunPipelined();
      if (!replies.ok()) {
        std::fprintf(stderr, "ipcd-bench: %s\n", replies.status().ToString().c_str());
        return false;
      }
      for (const auto& reply : *replies) {
        if (!reply.ok()) {
          std::fprintf(stderr, "ipcd-bench: %s\n", reply.status().ToString().c_str());
          return false;
        }
      }
    }
    return true;
  }
  const std::function<ipc::Status()> op = MakeOp(options, first, *manager);
  for (long i = 0; i < requests; ++i) {
    if (starts) {
      starts->push_back(std::chrono::duration<double>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
    }
    const auto start = Clock::now();
    if (ipc::Status status = op(); !status.ok()) {
      std::fprintf(stderr, "ipcd-bench: %s\n", status.ToString().c_str());
      return false;
    }
    if (latencies) {
      latencies->push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!Parse(argc, argv, &options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (options.op == "locked-increment" && (options.pipeline > 1 || options.batch > 1)) {
    std::fputs("ipcd-bench: locked-increment cannot be pipelined or batched\n", stderr);
    return 2;
  }
  {  // Warm up, and make sure the dict-get key exists.
    auto manager = ipc::Manager::Connect(options.url, {.shared_memory = !options.socket_only});
    if (!manager.ok()) {
      std::fprintf(stderr, "ipcd-bench: %s\n", manager.status().ToString().c_str());
      return 1;
    }
    (void)manager->Dict("bench:dict").Set("key", "xxx");
    for (int i = 0; i < 1000; ++i) (void)manager->Counter("bench:counter").Add(1);
  }

  if (options.event_loop) {
    const double per_second = bench::RunEventLoopLoad(
        {.socket_path = options.url.substr(std::strlen("unix://")),
         .op = options.op,
         .connections = options.clients,
         .requests = options.requests,
         .pipeline = options.pipeline,
         .keys = options.keys});
    if (per_second < 0) return 1;
    std::printf("{\"bench\":\"ipcd %s\",\"clients\":%ld,\"pipeline\":%ld,"
                "\"event_loop\":true,\"requests\":%ld,\"requests_per_s\":%.0f}\n",
                options.op.c_str(), options.clients, options.pipeline, options.requests,
                per_second);
    return 0;
  }

  std::vector<double> latencies;
  std::vector<double> starts;
  const bool measure_latency =
      options.clients == 1 && options.pipeline == 1 && options.batch == 1;
  if (measure_latency) latencies.reserve(options.requests);
  const bool keep_starts = measure_latency && !options.latency_file.empty();
  if (keep_starts) starts.reserve(options.requests);
  const auto start = Clock::now();
  bool ok = true;
  if (options.clients == 1) {
    ok = RunClient(options, 0, options.requests,
                   measure_latency ? &latencies : nullptr,
                   keep_starts ? &starts : nullptr);
  } else {
    std::vector<pid_t> children;
    long first = 0;
    for (long c = 0; c < options.clients; ++c) {
      const long share = options.requests / options.clients +
                         (c < options.requests % options.clients ? 1 : 0);
      const pid_t pid = fork();
      if (pid == 0) _exit(RunClient(options, first, share, nullptr, nullptr) ? 0 : 1);
      first += share;
      if (pid < 0) { std::perror("ipcd-bench: fork"); ok = false; break; }
      children.push_back(pid);
    }
    for (pid_t pid : children) {
      int status = 0;
      if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!ok) return 1;
  std::printf("{\"bench\":\"ipcd %s\",\"clients\":%ld,\"pipeline\":%ld,"
              "\"batch\":%ld,\"requests\":%ld,\"requests_per_s\":%.0f",
              options.op.c_str(), options.clients, options.pipeline, options.batch,
              options.requests, options.requests / seconds);
  if (keep_starts) {
    FILE* out = std::fopen(options.latency_file.c_str(), "w");
    if (out == nullptr) {
      std::perror(options.latency_file.c_str());
      return 1;
    }
    for (size_t i = 0; i < latencies.size(); ++i) {
      std::fprintf(out, "%.6f %.1f\n", starts[i], latencies[i]);
    }
    std::fclose(out);
  }
  if (measure_latency) {
    std::sort(latencies.begin(), latencies.end());
    const auto at = [&](double q) {
      return latencies[std::min(latencies.size() - 1,
                                static_cast<size_t>(q * latencies.size()))];
    };
    std::printf(",\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
                "\"max_us\":%.1f",
                at(0.5), at(0.99), at(0.999), latencies.back());
  }
  std::printf("}\n");
  return 0;
}
