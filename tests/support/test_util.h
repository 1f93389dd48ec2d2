// Helpers shared by the test binaries.
#ifndef IPC_TESTS_SUPPORT_TEST_UTIL_H_
#define IPC_TESTS_SUPPORT_TEST_UTIL_H_

#include <sys/types.h>

#include <functional>
#include <string>

namespace ipc::testing {

// True in a ThreadSanitizer build (tools/test.sh --sanitize thread), for the
// few checks that cannot run there; each says why where it tests this.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// A name no other test (in this or a concurrent process) uses:
// "<prefix>-<pid>-<counter>-<random>". Safe for paths, shm and mq names.
std::string UniqueName(const std::string& prefix);

// A fresh private directory under $TMPDIR (or /tmp), removed with its
// contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Forks a child that runs body and exits with its return value via _exit()
// (never returning into gtest). Returns the child's pid.
pid_t ForkChild(const std::function<int()>& body);

// Waits for pid; returns its exit code, 128+signal if killed, or -1 if it had
// not exited within timeout_ms (it is then killed with SIGKILL and reaped).
int WaitChild(pid_t pid, int timeout_ms = 30000);

}  // namespace ipc::testing

#endif  // IPC_TESTS_SUPPORT_TEST_UTIL_H_
