// S14, deadlock and recursive lock. Two processes take locks A and B in
// opposite orders: with deadlines, the one that cannot get its second lock
// gives up instead of deadlocking. Then a RecursiveMutex is re-entered by
// its owner while another process stays excluded.
#include <unistd.h>

#include <chrono>
#include <random>
#include <cstdio>
#include <string>
#include <thread>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/mutex.h"

int main() {
  const std::string id = std::to_string(getpid());
  const std::string a = "s14-a-" + id, b = "s14-b-" + id, r = "s14-r-" + id;
  if (!ipc::Mutex::Create(a).ok() || !ipc::Mutex::Create(b).ok() ||
      !ipc::RecursiveMutex::Create(r).ok()) {
    return examples::Fail("s14", ipc::Status(ipc::ErrorCode::kInternal, "setup failed"));
  }
  auto cross = [&](const std::string& first, const std::string& second) {
    return [=](int who) {
      std::minstd_rand rng(static_cast<unsigned>(getpid()));
      auto m1 = ipc::Mutex::Open(first);
      auto m2 = ipc::Mutex::Open(second);
      if (!m1.ok() || !m2.ok()) return 1;
      for (int attempt = 1;; ++attempt) {
        auto l1 = m1->Lock(std::chrono::seconds(5));
        if (!l1.ok()) return 2;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Invite the deadlock.
        auto l2 = m2->Lock(std::chrono::milliseconds(100));
        if (l2.ok()) {
          std::printf("process %d got both locks (attempt %d)\n", who, attempt);
          std::fflush(stdout);
          return 0;
        }
        // Back off for a random while, so the two do not retry in step.
        (void)l1->Unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
      }
    };
  };
  const bool crossed = examples::WaitAll({examples::Spawn(1, cross(a, b)),
                                          examples::Spawn(2, cross(b, a))});

  auto rmutex = ipc::RecursiveMutex::Open(r);
  auto outer = rmutex->Lock();
  auto inner = rmutex->Lock();  // The owner re-enters.
  const bool excluded = examples::WaitAll({examples::Spawn(3, [&](int) {
    auto other = ipc::RecursiveMutex::Open(r);
    return other.ok() && !other->TryLock().ok() ? 0 : 1;
  })});
  std::printf("recursive lock: re-entered %s, other process %s\n",
              outer.ok() && inner.ok() ? "yes" : "no", excluded ? "excluded" : "NOT excluded");
  (void)inner->Unlock();
  (void)outer->Unlock();
  (void)ipc::Mutex::Unlink(a);
  (void)ipc::Mutex::Unlink(b);
  (void)ipc::RecursiveMutex::Unlink(r);
  return crossed && excluded ? 0 : 1;
}
