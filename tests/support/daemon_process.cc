#include "support/daemon_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "ipc/channel.h"
#include "support/test_util.h"

// tests/CMakeLists.txt names the daemon when the build has one.
#ifndef IPCD_BINARY
#define IPCD_BINARY ""
#endif

namespace ipc::testing {
namespace {

// Decodes a waitpid status: exit code, or 128+signal.
int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

DaemonProcess::DaemonProcess() = default;

DaemonProcess::DaemonProcess(DaemonProcess&& other) noexcept
    : dir_(std::move(other.dir_)),
      socket_path_(std::move(other.socket_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      pid_(other.pid_) {
  other.pid_ = -1;
}

DaemonProcess& DaemonProcess::operator=(DaemonProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Kill();
    dir_ = std::move(other.dir_);
    socket_path_ = std::move(other.socket_path_);
    stderr_path_ = std::move(other.stderr_path_);
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Kill();
}

const std::string& DaemonProcess::dir() const {
  static const std::string kNone;
  return dir_ ? dir_->path() : kNone;
}

DaemonProcess DaemonProcess::Start(std::vector<std::string> extra_args) {
  DaemonProcess daemon;
  if (std::string(IPCD_BINARY).empty()) {
    ADD_FAILURE() << "this build has no ipcd (IPC_BUILD_TOOLS=OFF)";
    return daemon;
  }
  daemon.dir_ = std::make_unique<TempDir>();
  daemon.socket_path_ = daemon.dir_->File("ipcd.sock");
  daemon.stderr_path_ = daemon.dir_->File("ipcd.stderr");

  std::vector<std::string> args = {IPCD_BINARY, "--socket",
                                   daemon.socket_path_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const int err_fd = ::open(daemon.stderr_path_.c_str(),
                            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0) {
    ADD_FAILURE() << "cannot create " << daemon.stderr_path_;
    return daemon;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(err_fd);
    ADD_FAILURE() << "fork failed";
    return daemon;
  }
  if (pid == 0) {
    ::dup2(err_fd, STDERR_FILENO);
    // The daemon must not inherit a test's systemd environment by accident.
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("WATCHDOG_USEC");
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(err_fd);
  daemon.pid_ = pid;

  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      daemon.pid_ = -1;
      ADD_FAILURE() << "ipcd exited (status " << DecodeStatus(status)
                    << ") before accepting connections; its stderr:\n"
                    << daemon.Stderr();
      return daemon;
    }
    // A connect with a short deadline: readiness is "a connection succeeds",
    // never a sleep.
    auto channel = Connect("unix://" + daemon.socket_path_,
                           std::chrono::milliseconds(100));
    if (channel.ok()) return daemon;
    if (std::chrono::steady_clock::now() >= until) {
      ADD_FAILURE() << "ipcd did not accept a connection within 10 s: "
                    << channel.status() << "\nits stderr:\n"
                    << daemon.Stderr();
      daemon.Kill();
      return daemon;
    }
  }
}

void DaemonProcess::Reap(int* status_out) {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (status_out) *status_out = status;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return DecodeStatus(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (std::chrono::steady_clock::now() >= until) {
      ADD_FAILURE() << "ipcd did not exit within 10 s of SIGTERM; its stderr:\n"
                    << Stderr();
      ::kill(pid_, SIGKILL);
      Reap(&status);
      return DecodeStatus(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(nullptr);
}

std::string DaemonProcess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace ipc::testing
