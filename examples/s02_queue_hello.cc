// S2, queue hello: a sender process puts 'Hello' on a queue, a receiver
// process gets it and prints it. As Python's
//   q = Queue(); Process(target=put, args=(q,)); Process(target=get, args=(q,))
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/queue.h"

int main() {
  // A name private to this run; both children open it by name.
  const std::string name = "s02-hello-" + std::to_string(getpid());
  auto queue = ipc::Queue::Create(name, {.maxsize = 8});
  if (!queue.ok()) return examples::Fail("s02", queue.status());

  const pid_t sender = fork();
  if (sender == 0) {
    auto q = ipc::Queue::Open(name);
    _exit(q.ok() && q->Put("Hello").ok() ? 0 : 1);
  }
  const pid_t receiver = fork();
  if (receiver == 0) {
    auto q = ipc::Queue::Open(name);
    if (!q.ok()) _exit(examples::Fail("receiver", q.status()));
    auto item = q->Get(std::chrono::seconds(10));
    if (!item.ok()) _exit(examples::Fail("receiver", item.status()));
    std::cout << *item << std::endl;
    _exit(0);
  }
  int a = 0, b = 0;
  waitpid(sender, &a, 0);
  waitpid(receiver, &b, 0);
  (void)ipc::Queue::Unlink(name);
  return a == 0 && b == 0 ? 0 : 1;
}
