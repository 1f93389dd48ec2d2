#include "sync/pool_process.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "posix/close_on_fork.h"
#include "sync/pool_worker.h"

namespace ipc::internal {
namespace {

// Through syscall(): the <sys/pidfd.h> of glibc 2.36 lacks extern "C".
int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

Result<ForkedWorker> ForkPoolWorker(const std::function<Status()>& initializer,
                                    uint64_t secret, size_t max_frame) {
  IPC_ASSIGN_OR_RETURN(auto ends, Pipe(max_frame));
  auto& [parent_end, child_end] = ends;
  // No child may keep a parent's end (this worker's or another's): a
  // worker would then hold its siblings' sockets open and hide their
  // deaths. Registered before fork(), it is /dev/null in the child.
  RegisterCloseOnFork(parent_end.fd());
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    CloseWorkerChannel(parent_end);
    return ErrnoStatus("ipc::Pool: fork a worker", err);
  }
  if (pid == 0) {
    // Nothing may unwind past this point: below it is a copy of the
    // caller's stack, and a catch there would run the caller's code in
    // the worker.
    try {
      RunPoolWorker(std::move(child_end), initializer, secret);
    } catch (...) {
    }
    _exit(kPoolWorkerExceptionExit);
  }
  child_end.Close();
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd.valid()) {
    const int err = errno;
    // Not reaped yet, so the pid is still this child's.
    (void)::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    CloseWorkerChannel(parent_end);
    return ErrnoStatus("ipc::Pool: pidfd_open for a worker", err);
  }
  return ForkedWorker{pid, std::move(pidfd), std::move(parent_end)};
}

void CloseWorkerChannel(Channel& channel) {
  UnregisterCloseOnFork(channel.fd());
  channel.Close();
}

void KillWorker(int pidfd) {
  (void)::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

std::string KillAndReap(pid_t pid, int pidfd) {
  KillWorker(pidfd);
  siginfo_t info{};
  int reaped;
  do {
    reaped = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
  } while (reaped < 0 && errno == EINTR);
  std::string who = "pool worker " + std::to_string(pid);
  if (reaped < 0)
    return who + " is gone (its exit status was collected elsewhere)";
  if (info.si_code == CLD_EXITED)
    return who + " exited with status " + std::to_string(info.si_status);
  const int sig = info.si_status;  // CLD_KILLED or CLD_DUMPED.
  const char* abbrev = sigabbrev_np(sig);
  return who + " was killed by signal " + std::to_string(sig) +
         (abbrev ? " (SIG" + std::string(abbrev) + ")" : "");
}

}  // namespace ipc::internal
