// Forking helpers for the scenario examples: start N child processes that
// each run a function and exit with its result, and wait for all of them.
#ifndef IPC_EXAMPLES_COMMON_CHILDREN_H_
#define IPC_EXAMPLES_COMMON_CHILDREN_H_

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <vector>

namespace examples {

// Forks a child running body(index); the child exits with its return value.
inline pid_t Spawn(int index, const std::function<int(int)>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body(index));
  return pid;
}

// Waits for every pid; true when all exited with 0.
inline bool WaitAll(const std::vector<pid_t>& pids) {
  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ok = false;
    }
  }
  return ok;
}

}  // namespace examples

#endif  // IPC_EXAMPLES_COMMON_CHILDREN_H_
