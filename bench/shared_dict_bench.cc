// shared-dict-bench: ipc::SharedDict get or set from P processes at once,
// in the shape of redis-benchmark's GET and SET (3-byte values, one key
// per request drawn in turn from K keys), so bench/run_shared_dict.sh can
// put it beside ipcd's dict and Redis.
//
//   shared-dict-bench [--op get|set] [--processes P] [--requests N] [--keys K]
//
// The P processes share the N requests and start together; prints one
// JSON line with the requests per second over the whole run.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ipc/shared_dict.h"

namespace {

struct Options {
  std::string op = "get";
  int processes = 1;
  long requests = 2000000;
  int keys = 1000;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: shared-dict-bench [--op get|set] [--processes P] [--requests N] "
               "[--keys K]\n");
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    const char* value = argv[++i];
    if (arg == "--op") {
      o.op = value;
    } else if (arg == "--processes") {
      o.processes = std::atoi(value);
    } else if (arg == "--requests") {
      o.requests = std::atol(value);
    } else if (arg == "--keys") {
      o.keys = std::atoi(value);
    } else {
      Usage();
    }
  }
  if ((o.op != "get" && o.op != "set") || o.processes < 1 || o.requests < 1 || o.keys < 1) {
    Usage();
  }
  return o;
}

std::string Key(int i) {
  char key[32];
  std::snprintf(key, sizeof key, "key:%012d", i);
  return key;
}

// One process's share of the run; false on any failed call.
bool Run(ipc::SharedDict& dict, const Options& o, long requests,
         const std::vector<std::string>& keys) {
  const size_t n = keys.size();
  if (o.op == "get") {
    for (long i = 0; i < requests; ++i) {
      if (!dict.Get(keys[static_cast<size_t>(i) % n]).ok()) return false;
    }
  } else {
    for (long i = 0; i < requests; ++i) {
      if (!dict.Set(keys[static_cast<size_t>(i) % n], "xxx").ok()) return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const std::string name = "shared-dict-bench-" + std::to_string(::getpid());
  auto dict = ipc::SharedDict::Create(name, {.capacity = size_t{64} << 20});
  if (!dict.ok()) {
    std::fprintf(stderr, "shared-dict-bench: %s\n", dict.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> keys;
  for (int i = 0; i < o.keys; ++i) keys.push_back(Key(i));
  for (const auto& key : keys) (void)dict->Set(key, "xxx");

  // The start line: children spin on it so that all start together.
  auto* go = static_cast<std::atomic<int>*>(::mmap(nullptr, sizeof(std::atomic<int>),
                                                   PROT_READ | PROT_WRITE,
                                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  go->store(0);
  std::vector<pid_t> children;
  for (int p = 0; p < o.processes; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      auto mine = ipc::SharedDict::Open(name);
      while (go->load() == 0) {
      }
      _exit(mine.ok() && Run(*mine, o, o.requests / o.processes, keys) ? 0 : 1);
    }
    children.push_back(pid);
  }
  const auto start = std::chrono::steady_clock::now();
  go->store(1);
  bool ok = true;
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  (void)ipc::SharedDict::Unlink(name);
  if (!ok) {
    std::fprintf(stderr, "shared-dict-bench: a process failed\n");
    return 1;
  }
  const long done = o.requests / o.processes * o.processes;
  std::printf("{\"bench\": \"shared dict %s\", \"processes\": %d, \"requests\": %ld, "
              "\"req_per_s\": %.0f}\n",
              o.op.c_str(), o.processes, done, done / seconds);
  return 0;
}
