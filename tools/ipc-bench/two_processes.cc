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

// Single-thread memcpy of the message size between two distinct buffers
// that are pre-faulted and warmed by an untimed copy, like the reused
// buffers of a sender and a receiver: not a page-fault test. Each round
// copies at least 256 MiB (so a 64-byte size measures per-call cost, not a
// timer tick); the median of the rounds damps a neighbour's burst.
double MemcpyGbPerS(size_t size) {
  if (size == 0) return 0;
  constexpr size_t kRoundBytes = size_t{256} << 20;
  constexpr int kRounds = 5;
  std::vector<char> a(size, 'a'), b(size, 'b');
  std::memcpy(b.data(), a.data(), size);
  const size_t copies = std::max<size_t>(1, kRoundBytes / size);
  std::vector<double> rates;
  for (int round = 0; round < kRounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < copies; ++i) {
      std::memcpy(b.data(), a.data(), size);
      asm volatile("" ::: "memory");  // Keep every copy.
    }
    const double s = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();
    rates.push_back(static_cast<double>(size) * copies / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

Floor MeasureFloor(const std::vector<int>& cpus, size_t message_size) {
  Floor floor;
  // This pins the calling process to cpus[0] (when cpus are given), where
  // the receiving end of a stream runs: the memcpy runs on that CPU.
  floor.cacheline_rtt_ns = CacheLineRoundTripNs(cpus);
  floor.memcpy_size = message_size;
  floor.memcpy_gb_per_s = MemcpyGbPerS(message_size);
  return floor;
}

}  // namespace bench
