#include "spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/test_util.h"

namespace ipc::testing {

pid_t SpawnIpcd(const SpawnOptions& options) {
  std::vector<std::string> args = {IPCD_BINARY};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe work would be strictly correct here; the
  // test process is single-threaded, so setenv is fine.
  if (!options.stderr_file.empty()) {
    const int fd =
        ::open(options.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDERR_FILENO);
      ::dup2(fd, STDOUT_FILENO);  // --help goes to stdout.
    }
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  for (const std::string& e : options.env) {
    const size_t eq = e.find('=');
    ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
  if (options.listen_fd >= 0) {
    if (options.listen_fd != 3) {
      ::dup2(options.listen_fd, 3);
    } else {
      ::fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec.
    }
    ::setenv("LISTEN_FDS", "1", 1);
    ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  }
  if (options.nofile_limit > 0) {
    const rlimit limit{static_cast<rlim_t>(options.nofile_limit),
                       static_cast<rlim_t>(options.nofile_limit)};
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

SpawnedIpcd::~SpawnedIpcd() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)WaitChild(pid_, 10000);
  }
}

int SpawnedIpcd::Stop() {
  ::kill(pid_, SIGTERM);
  return Wait();
}

int SpawnedIpcd::Wait() {
  const int code = WaitChild(pid_, 10000);
  pid_ = -1;
  return code;
}

int RunIpcd(const std::vector<std::string>& args, std::string* log) {
  TempDir dir;
  SpawnOptions options;
  options.args = args;
  options.stderr_file = dir.File("stderr");
  const pid_t pid = SpawnIpcd(options);
  const int code = WaitChild(pid, 10000);
  *log = ReadFile(options.stderr_file);
  return code;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& text, int mode) {
  {
    std::ofstream out(path);
    out << text;
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

}  // namespace ipc::testing
