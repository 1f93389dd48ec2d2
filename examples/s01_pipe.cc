// S1, pipe: the parent makes a pipe, one child sends "Hello" into it and
// another child receives it and prints it. Python's version:
//
//   a, b = Pipe()
//   Process(target=lambda: a.send('Hello')).start()
//   Process(target=lambda: print(b.recv())).start()
//
// Run: s01_pipe            prints: Hello
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>

#include "common/cli.h"
#include "ipc/channel.h"

namespace {

// Waits for a child; true when it exited with 0.
bool Succeeded(pid_t child) {
  int status = 0;
  return waitpid(child, &status, 0) == child && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

}  // namespace

int main() {
  // ipc::Pipe() returns two connected ends, like Python's Pipe(). They are
  // made before fork(), so every child inherits both.
  auto pipe = ipc::Pipe();
  if (!pipe.ok()) return examples::Fail("s01_pipe", pipe.status());
  auto& [left, right] = *pipe;

  const pid_t sender = fork();
  if (sender < 0) return examples::Fail("s01_pipe", ipc::ErrnoStatus("fork", errno));
  if (sender == 0) {
    // Each child closes the end it does not use. That matters: a receiver
    // learns that every sender is gone (kClosed) only when no process
    // holds the sending end any more.
    right.Close();
    const ipc::Status sent = left.Send("Hello");
    // A forked child leaves with _exit: plain exit would run the parent's
    // atexit handlers and flush its copies of stdio buffers a second time.
    _exit(sent.ok() ? 0 : examples::Fail("s01_pipe sender", sent));
  }

  const pid_t receiver = fork();
  if (receiver < 0) return examples::Fail("s01_pipe", ipc::ErrnoStatus("fork", errno));
  if (receiver == 0) {
    left.Close();
    // A deadline on every blocking call: if the sender failed, we report
    // it after 10 s instead of hanging.
    auto message = right.Receive(std::chrono::seconds(10));
    if (!message.ok()) _exit(examples::Fail("s01_pipe receiver", message.status()));
    std::cout << *message << std::endl;
    _exit(0);
  }

  // The parent keeps no ends: once both children exit, nothing is open.
  left.Close();
  right.Close();
  const bool sender_ok = Succeeded(sender);
  const bool receiver_ok = Succeeded(receiver);
  return sender_ok && receiver_ok ? 0 : 1;
}
