#include "sync/pool_process.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "posix/close_on_fork.h"
#include "sync/pool_worker.h"

namespace ipc::internal {

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
  if (pid == 0) RunPoolWorker(std::move(child_end), initializer, secret);
  child_end.Close();
  return ForkedWorker{pid, std::move(parent_end)};
}

void CloseWorkerChannel(Channel& channel) {
  UnregisterCloseOnFork(channel.fd());
  channel.Close();
}

std::string KillAndReap(pid_t pid) {
  (void)::kill(pid, SIGKILL);
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  std::string who = "pool worker " + std::to_string(pid);
  if (reaped != pid)
    return who + " is gone (its exit status was collected elsewhere)";
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return who + " was killed by signal " + std::to_string(sig) +
           (abbrev ? " (SIG" + std::string(abbrev) + ")" : "");
  }
  return who + " exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace ipc::internal
