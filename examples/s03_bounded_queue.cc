// S3, bounded queue: Queue(3); put 1, 2, 3; a fourth put with a short
// timeout is Full; get 1, 2, 3 in order; get_nowait on the empty queue is
// Empty. Prints what happened, one line each.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/queue.h"

int main() {
  const std::string name = "s03-bounded-" + std::to_string(getpid());
  auto q = ipc::Queue::Create(name, {.maxsize = 3});
  if (!q.ok()) return examples::Fail("s03", q.status());
  for (const char* item : {"1", "2", "3"}) {
    if (auto s = q->Put(item); !s.ok()) return examples::Fail("s03", s);
  }
  // The fourth put finds no room within 100 ms.
  ipc::Status full = q->Put("4", std::chrono::milliseconds(100));
  std::cout << "put 4: " << ipc::ErrorCodeName(full.code()) << std::endl;
  std::cout << "got:";
  for (int i = 0; i < 3; ++i) std::cout << " " << q->Get().value_or("?");
  std::cout << std::endl;
  std::cout << "get_nowait: " << ipc::ErrorCodeName(q->TryGet().status().code()) << std::endl;
  (void)ipc::Queue::Unlink(name);
  return full.code() == ipc::ErrorCode::kFull ? 0 : 1;
}
