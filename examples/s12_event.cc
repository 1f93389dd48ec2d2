// S12, event: workers try to "connect", waiting on an Event with a 0.5 s
// timeout up to 3 times; a checker process sets the event after a second.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/event.h"

int main() {
  const std::string name = "s12-ready-" + std::to_string(getpid());
  if (auto e = ipc::Event::Create(name); !e.ok()) return examples::Fail("s12", e.status());
  std::vector<pid_t> pids;
  for (int w = 0; w < 2; ++w) {
    pids.push_back(examples::Spawn(w, [&](int worker) {
      auto ready = ipc::Event::Open(name);
      if (!ready.ok()) return 1;
      for (int attempt = 1; attempt <= 3; ++attempt) {
        if (ready->Wait(std::chrono::milliseconds(500)).ok()) {
          std::printf("worker %d connected on attempt %d\n", worker, attempt);
          std::fflush(stdout);  // The child leaves with _exit, unflushed.
          return 0;
        }
        std::printf("worker %d: attempt %d timed out\n", worker, attempt);
        std::fflush(stdout);
      }
      return 2;
    }));
  }
  pids.push_back(examples::Spawn(9, [&](int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // The service starts.
    auto ready = ipc::Event::Open(name);
    return ready.ok() && ready->Set().ok() ? 0 : 1;
  }));
  const bool ok = examples::WaitAll(pids);
  (void)ipc::Event::Unlink(name);
  return ok ? 0 : 1;
}
