// DaemonProcess: a real ipcd child process for tests.
//
//   auto daemon = ipc::testing::DaemonProcess::Start({"--max-clients", "4"});
//   auto ch = ipc::Connect(daemon.url());
//   ...
//   EXPECT_EQ(daemon.Stop(), 0);
//
// Start() runs the binary named by the IPCD_BINARY compile definition with
// --socket <fresh temp dir>/ipcd.sock and waits (at most 10 s) until a
// connection to that socket succeeds; if the daemon exits first, the test
// fails with what the daemon wrote to stderr. Stderr goes to a file in the
// temp dir, readable with Stderr() at any time.
//
// Thread safety: use one DaemonProcess from one thread. Move-only.
#ifndef IPC_TESTS_SUPPORT_DAEMON_PROCESS_H_
#define IPC_TESTS_SUPPORT_DAEMON_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace ipc::testing {

class TempDir;

class DaemonProcess {
 public:
  // Starts ipcd --socket <temp dir>/ipcd.sock plus extra_args. On failure
  // (the daemon exited, or no connection within 10 s) the returned object
  // has pid() == -1 and a gtest failure has been recorded.
  static DaemonProcess Start(std::vector<std::string> extra_args = {});

  DaemonProcess();
  DaemonProcess(DaemonProcess&& other) noexcept;
  DaemonProcess& operator=(DaemonProcess&& other) noexcept;
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  // Kills the daemon if it still runs and removes the temp dir.
  ~DaemonProcess();

  const std::string& socket_path() const { return socket_path_; }
  // "unix://" + socket_path().
  std::string url() const { return "unix://" + socket_path_; }
  pid_t pid() const { return pid_; }
  // The daemon's private temp dir (holds the socket and the stderr log).
  const std::string& dir() const;

  // Sends SIGTERM and waits up to 10 s; after that, SIGKILL and a test
  // failure. Returns the exit code, 128+signal if it was killed, or -1 when
  // it was not running.
  int Stop();
  // SIGKILL and reap.
  void Kill();
  // What the daemon has written to stderr so far.
  std::string Stderr() const;

 private:
  void Reap(int* status_out);

  std::unique_ptr<TempDir> dir_;
  std::string socket_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
};

}  // namespace ipc::testing

#endif  // IPC_TESTS_SUPPORT_DAEMON_PROCESS_H_
