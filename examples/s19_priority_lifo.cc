// S19, priority and LIFO queues: a PriorityQueue given (10,'a'), (5,'b'),
// (-2,'c') returns (-2,'c'), (5,'b'), (10,'a'); a LifoQueue given 1, 2, 3
// returns 3, 2, 1.
#include <unistd.h>

#include <iostream>
#include <string>

#include "common/cli.h"
#include "ipc/queue.h"

int main() {
  const std::string id = std::to_string(getpid());
  auto pq = ipc::Queue::Create("s19-priority-" + id, {.order = ipc::QueueOrder::kPriority});
  auto lifo = ipc::Queue::Create("s19-lifo-" + id, {.order = ipc::QueueOrder::kLifo});
  if (!pq.ok()) return examples::Fail("s19", pq.status());
  if (!lifo.ok()) return examples::Fail("s19", lifo.status());

  (void)pq->Put("a", ipc::Deadline::Infinite(), 10);
  (void)pq->Put("b", ipc::Deadline::Infinite(), 5);
  (void)pq->Put("c", ipc::Deadline::Infinite(), -2);
  std::cout << "priority:";
  for (int i = 0; i < 3; ++i) {
    const std::string item = pq->Get().value_or("?");
    std::cout << " (" << pq->last_priority() << ", '" << item << "')";
  }
  std::cout << std::endl;

  for (const char* item : {"1", "2", "3"}) (void)lifo->Put(item);
  std::cout << "lifo:";
  for (int i = 0; i < 3; ++i) std::cout << " " << lifo->Get().value_or("?");
  std::cout << std::endl;

  (void)ipc::Queue::Unlink("s19-priority-" + id);
  (void)ipc::Queue::Unlink("s19-lifo-" + id);
  return 0;
}
