#include "posix/fork_generation.h"

#include <pthread.h>

#include <atomic>

namespace ipc::internal {
namespace {

std::atomic<uint64_t> g_generation{0};

void OnForkChild() { g_generation.fetch_add(1, std::memory_order_relaxed); }

// Registered once, before main() or at first use, whichever comes first.
const bool g_registered = [] {
  pthread_atfork(nullptr, nullptr, OnForkChild);
  return true;
}();

}  // namespace

uint64_t ForkGeneration() {
  (void)g_registered;
  return g_generation.load(std::memory_order_relaxed);
}

}  // namespace ipc::internal
