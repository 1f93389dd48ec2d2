// sync-bench: libipc's synchronization objects beside the raw mechanism they
// are built on, measured in the same run, plus an ipc::Queue stream between
// two processes. Prints one JSON object per line.
//   sync-bench [--ops N] [--items N]
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "ipc/mutex.h"
#include "ipc/queue.h"
#include "ipc/shared_value.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double NsPerOp(long ops, F&& op) {
  for (long i = 0; i < ops / 10; ++i) op();  // Warm up.
  const auto start = Clock::now();
  for (long i = 0; i < ops; ++i) op();
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / ops;
}

void Report(const char* what, double ours, double raw, const char* raw_what) {
  std::printf("{\"bench\":\"%s\",\"libipc_ns\":%.1f,\"raw_ns\":%.1f,\"raw\":\"%s\",\"ratio\":%.2f}\n",
              what, ours, raw, raw_what, ours / raw);
}

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof(set), &set);
}

}  // namespace

int main(int argc, char** argv) {
  long ops = 2000000, items = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--ops") == 0) ops = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "--items") == 0) items = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: sync-bench [--ops N] [--items N]\n");
      return 2;
    }
  }
  const std::string id = std::to_string(getpid());
  void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

  // Uncontended lock/unlock: ipc::Mutex against a bare robust, process-shared
  // pthread mutex in a shared mapping.
  auto* raw_mutex = new (shared) pthread_mutex_t;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(raw_mutex, &attr);
  auto mutex = ipc::Mutex::Create("sync-bench-" + id).value();
  const double ours = NsPerOp(ops, [&] {
    (void)mutex.Acquire();
    (void)mutex.Release();
  });
  const double raw = NsPerOp(ops, [&] {
    pthread_mutex_lock(raw_mutex);
    pthread_mutex_unlock(raw_mutex);
  });
  Report("mutex lock+unlock, uncontended", ours, raw, "robust pshared pthread mutex");
  (void)ipc::Mutex::Unlink("sync-bench-" + id);

  // Atomic increment: SharedValue<long>::FetchAdd against std::atomic in a
  // shared mapping.
  auto* raw_counter = new (static_cast<char*>(shared) + 1024) std::atomic<long>(0);
  auto counter = ipc::SharedValue<long>::Create("sync-bench-v-" + id, 0, {.with_lock = false}).value();
  const double add_ours = NsPerOp(ops, [&] { counter.FetchAdd(1); });
  const double add_raw = NsPerOp(ops, [&] { raw_counter->fetch_add(1); });
  Report("shared counter fetch_add", add_ours, add_raw, "std::atomic<long> in shared memory");
  (void)ipc::SharedValue<long>::Unlink("sync-bench-v-" + id);

  // Contended: two pinned processes each lock+unlock the same mutex in a
  // loop; ns per lock+unlock, ipc::Mutex against the bare robust mutex.
  auto contended = [&](auto&& lock_unlock) {
    const long rounds = ops / 10;
    const auto start = Clock::now();
    const pid_t other = fork();
    if (other == 0) {
      Pin(1);
      for (long i = 0; i < rounds; ++i) lock_unlock();
      _exit(0);
    }
    Pin(0);
    for (long i = 0; i < rounds; ++i) lock_unlock();
    waitpid(other, nullptr, 0);
    return std::chrono::duration<double, std::nano>(Clock::now() - start).count() / (2 * rounds);
  };
  auto shared_mutex = ipc::Mutex::Create("sync-bench-c-" + id).value();
  const double contended_ours = contended([&] {
    (void)shared_mutex.Acquire();
    (void)shared_mutex.Release();
  });
  const double contended_raw = contended([&] {
    pthread_mutex_lock(raw_mutex);
    pthread_mutex_unlock(raw_mutex);
  });
  Report("mutex lock+unlock, two processes contending", contended_ours, contended_raw,
         "robust pshared pthread mutex");
  (void)ipc::Mutex::Unlink("sync-bench-c-" + id);

  // Queue round trip: ping on one queue, pong on another, 64-byte items.
  {
    const std::string ping = "sync-bench-ping-" + id, pong = "sync-bench-pong-" + id;
    auto a = ipc::Queue::Create(ping, {.maxsize = 16, .max_item = 64}).value();
    auto b = ipc::Queue::Create(pong, {.maxsize = 16, .max_item = 64}).value();
    const long trips = std::max(1000L, items / 10);
    const pid_t echo = fork();
    if (echo == 0) {
      Pin(1);
      auto in = ipc::Queue::Open(ping).value();
      auto out = ipc::Queue::Open(pong).value();
      for (long i = 0; i < trips; ++i) (void)out.Put(in.Get().value_or(""));
      _exit(0);
    }
    Pin(0);
    const std::string item(64, 'p');
    const auto start = Clock::now();
    for (long i = 0; i < trips; ++i) {
      (void)a.Put(item);
      (void)b.Get();
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / trips;
    waitpid(echo, nullptr, 0);
    std::printf("{\"bench\":\"queue round trip 64 B\",\"rtt_us\":%.2f}\n", us);
    (void)ipc::Queue::Unlink(ping);
    (void)ipc::Queue::Unlink(pong);
  }

  // Queue stream: 64-byte items from one process to another, pinned.
  const std::string qname = "sync-bench-q-" + id;
  auto queue = ipc::Queue::Create(qname, {.maxsize = 1024, .max_item = 64}).value();
  const pid_t producer = fork();
  if (producer == 0) {
    Pin(1);
    auto q = ipc::Queue::Open(qname).value();
    const std::string item(64, 'x');
    for (long i = 0; i < items; ++i) (void)q.Put(item);
    _exit(0);
  }
  Pin(0);
  const auto start = Clock::now();
  for (long i = 0; i < items; ++i) (void)queue.Get();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  waitpid(producer, nullptr, 0);
  std::printf("{\"bench\":\"queue stream 64 B\",\"items_per_s\":%.0f}\n", items / seconds);
  (void)ipc::Queue::Unlink(qname);
  return 0;
}
