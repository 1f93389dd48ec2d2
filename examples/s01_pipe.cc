// S1, pipe: the parent makes a pipe, one child sends "Hello" into it and
// another child receives it and prints it. As Python's
//   a, b = Pipe(); Process(target=send, args=(a,)); Process(target=recv, args=(b,))
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "common/cli.h"
#include "ipc/channel.h"

int main() {
  // Both ends exist before fork(), so both children inherit them.
  auto pipe = ipc::Pipe();
  if (!pipe.ok()) return examples::Fail("s01_pipe", pipe.status());
  auto& [left, right] = *pipe;

  const pid_t sender = fork();
  if (sender == 0) {
    right.Close();  // Each child keeps only the end it uses.
    ipc::Status s = left.Send("Hello");
    _exit(s.ok() ? 0 : examples::Fail("sender child", s));
  }
  const pid_t receiver = fork();
  if (receiver == 0) {
    left.Close();
    auto message = right.Receive(std::chrono::seconds(10));
    if (!message.ok()) _exit(examples::Fail("receiver child", message.status()));
    std::cout << *message << std::endl;
    _exit(0);
  }
  // The parent keeps no ends: once the children exit, nothing is left open.
  left.Close();
  right.Close();
  int sender_status = 0, receiver_status = 0;
  waitpid(sender, &sender_status, 0);
  waitpid(receiver, &receiver_status, 0);
  return sender_status == 0 && receiver_status == 0 ? 0 : 1;
}
