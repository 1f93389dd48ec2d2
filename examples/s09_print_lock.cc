// S9, print lock: three processes each print "<pid> is running" twice with a
// pause in between; holding a cross-process Mutex, their two lines are never
// interleaved with another process's.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/mutex.h"

int main() {
  const std::string name = "s09-print-" + std::to_string(getpid());
  if (auto m = ipc::Mutex::Create(name); !m.ok()) return examples::Fail("s09", m.status());
  std::vector<pid_t> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(examples::Spawn(i, [&](int) {
      auto lock = ipc::Mutex::Open(name);
      if (!lock.ok()) return 1;
      std::lock_guard<ipc::Mutex> hold(*lock);
      for (int line = 0; line < 2; ++line) {
        std::printf("%d is running\n", getpid());
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return 0;
    }));
  }
  const bool ok = examples::WaitAll(workers);
  (void)ipc::Mutex::Unlink(name);
  return ok ? 0 : 1;
}
