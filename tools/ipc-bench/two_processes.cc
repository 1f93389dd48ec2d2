#include "two_processes.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <vector>

namespace bench {

ipc::Status PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return ipc::ErrnoStatus("pinning to cpu " + std::to_string(cpu), errno);
  }
  return ipc::Status::Ok();
}

ipc::Status RunInTwoProcesses(const std::vector<int>& cpus,
                              const std::function<ipc::Status()>& parent,
                              const std::function<int()>& child) {
  const pid_t pid = fork();
  if (pid < 0) return ipc::ErrnoStatus("fork", errno);
  if (pid == 0) {
    if (!cpus.empty() && !PinTo(cpus[1]).ok()) _exit(90);
    _exit(child());
  }
  ipc::Status status = cpus.empty() ? ipc::Status::Ok() : PinTo(cpus[0]);
  if (status.ok()) status = parent();
  if (!status.ok()) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (status.ok() && !(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)) {
    return ipc::Status(ipc::ErrorCode::kInternal,
                       "the second process failed (status " +
                           std::to_string(wstatus) + ")");
  }
  return status;
}

namespace {

double CacheLineRoundTripNs(const std::vector<int>& cpus) {
  constexpr int kRounds = 200000;
  void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return 0;
  auto* flag = new (shared) std::atomic<int>(0);
  double ns = 0;
  (void)RunInTwoProcesses(
      cpus,
      [&] {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kRounds; ++i) {
          flag->store(2 * i + 1, std::memory_order_release);
          while (flag->load(std::memory_order_acquire) != 2 * i + 2) {
          }
        }
        ns = std::chrono::duration<double, std::nano>(
                 std::chrono::steady_clock::now() - start).count() / kRounds;
        return ipc::Status::Ok();
      },
      [&] {
        for (int i = 0; i < kRounds; ++i) {
          while (flag->load(std::memory_order_acquire) != 2 * i + 1) {
          }
          flag->store(2 * i + 2, std::memory_order_release);
        }
        return 0;
      });
  munmap(shared, 4096);
  return ns;
}

double MemcpyGbPerS() {
  constexpr size_t kSize = 1 << 20;
  std::vector<char> a(kSize, 'a'), b(kSize, 'b');
  constexpr int kCopies = 3000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCopies; ++i) {
    std::memcpy(b.data(), a.data(), kSize);
    asm volatile("" ::: "memory");  // Keep every copy.
  }
  const double s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start).count();
  return kSize * static_cast<double>(kCopies) / s / 1e9;
}

}  // namespace

Floor MeasureFloor(const std::vector<int>& cpus) {
  Floor floor;
  floor.cacheline_rtt_ns = CacheLineRoundTripNs(cpus);
  floor.memcpy_gb_per_s = MemcpyGbPerS();
  return floor;
}

}  // namespace bench
