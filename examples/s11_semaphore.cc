// S11, semaphore: ten workers share Semaphore(5); each holds it for a moment.
// A shared counter records how many are inside at once; the example prints
// the largest number seen, which must never exceed 5.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/semaphore.h"
#include "ipc/shared_value.h"

int main() {
  const std::string id = std::to_string(getpid());
  auto sem = ipc::Semaphore::Create("s11-sem-" + id, 5);
  auto inside = ipc::SharedArray<int>::Create("s11-inside-" + id, 2, 0, {.with_lock = false});
  if (!sem.ok()) return examples::Fail("s11", sem.status());
  if (!inside.ok()) return examples::Fail("s11", inside.status());
  std::vector<pid_t> workers;
  for (int i = 0; i < 10; ++i) {
    workers.push_back(examples::Spawn(i, [&](int) {
      auto s = ipc::Semaphore::Open("s11-sem-" + id);
      auto counts = ipc::SharedArray<int>::Open("s11-inside-" + id);  // [now, max]
      if (!s.ok() || !counts.ok()) return 1;
      for (int round = 0; round < 5; ++round) {
        if (!s->Acquire(std::chrono::seconds(10)).ok()) return 2;
        const int now = counts->FetchAdd(0, 1) + 1;
        int max = counts->Load(1);
        while (now > max && !counts->CompareExchange(1, max, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        counts->FetchAdd(0, -1);
        if (!s->Release().ok()) return 3;
      }
      return 0;
    }));
  }
  const bool ok = examples::WaitAll(workers);
  const int max = inside->Load(1);
  std::cout << "max inside at once: " << max << std::endl;
  (void)ipc::Semaphore::Unlink("s11-sem-" + id);
  (void)ipc::SharedArray<int>::Unlink("s11-inside-" + id);
  return ok && max <= 5 ? 0 : 1;
}
