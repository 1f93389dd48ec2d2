#include "posix/close_on_fork.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace ipc::internal {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<int> fds;
  int null_fd = -1;  // What the child's copies become.
};

Registry* g_registry = nullptr;  // Never destroyed: fork may run during exit.

void BeforeFork() { g_registry->mutex.lock(); }  // No registration mid-fork.
void AfterForkParent() { g_registry->mutex.unlock(); }
void AfterForkChild() {
  // Only async-signal-safe calls here.
  for (int fd : g_registry->fds) {
    if (g_registry->null_fd >= 0) (void)::dup3(g_registry->null_fd, fd, O_CLOEXEC);
  }
  g_registry->fds.clear();  // Keeps the capacity: no allocation.
  g_registry->mutex.unlock();
}

Registry& TheRegistry() {
  static const bool initialized = [] {
    g_registry = new Registry;
    g_registry->null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pthread_atfork(BeforeFork, AfterForkParent, AfterForkChild);
    return true;
  }();
  (void)initialized;
  return *g_registry;
}

}  // namespace

void RegisterCloseOnFork(int fd) {
  Registry& reg = TheRegistry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  if (std::find(reg.fds.begin(), reg.fds.end(), fd) == reg.fds.end()) {
    reg.fds.push_back(fd);
  }
}

void UnregisterCloseOnFork(int fd) {
  Registry& reg = TheRegistry();
  std::lock_guard<std::mutex> lock(reg.mutex);
  reg.fds.erase(std::remove(reg.fds.begin(), reg.fds.end(), fd), reg.fds.end());
}

}  // namespace ipc::internal
