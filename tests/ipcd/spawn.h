// Starting ipcd with a hand-made environment, for the tests that
// DaemonProcess does not cover: start-up failures, systemd notification and
// socket activation.
//
// Thread safety: call from the test's main thread (SpawnIpcd forks and
// sets the child's environment with setenv).
#ifndef IPC_TESTS_IPCD_SPAWN_H_
#define IPC_TESTS_IPCD_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace ipc::testing {

struct SpawnOptions {
  std::vector<std::string> args;  // After the binary's path.
  std::vector<std::string> env;   // "NAME=value", added.
  std::string stderr_file;        // Where its stderr goes.
  int listen_fd = -1;  // Handed over as fd 3 with LISTEN_FDS=1 and LISTEN_PID.
  // When > 0, the child's RLIMIT_NOFILE (soft and hard) before exec.
  long nofile_limit = 0;
};

// Forks and execs the ipcd binary; returns its pid.
pid_t SpawnIpcd(const SpawnOptions& options);

// Owns a spawned daemon: kills and reaps it on destruction unless Stop()
// already did, so a failed assertion never leaves a process behind.
class SpawnedIpcd {
 public:
  explicit SpawnedIpcd(const SpawnOptions& options)
      : pid_(SpawnIpcd(options)) {}
  ~SpawnedIpcd();
  SpawnedIpcd(const SpawnedIpcd&) = delete;
  SpawnedIpcd& operator=(const SpawnedIpcd&) = delete;
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and returns the exit status (see WaitChild).
  int Stop();
  // Waits (at most 10 s) for it to exit by itself.
  int Wait();

 private:
  pid_t pid_;
};

// Runs ipcd to completion (at most 10 s); returns its exit status and puts
// what it logged in *log.
int RunIpcd(const std::vector<std::string>& args, std::string* log);

std::string ReadFile(const std::string& path);

// Writes text to path with mode.
void WriteFile(const std::string& path, const std::string& text, int mode);

}  // namespace ipc::testing

#endif  // IPC_TESTS_IPCD_SPAWN_H_
