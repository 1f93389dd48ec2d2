// S10, producer / consumer: a producer puts items on a queue and then an end
// marker; a consumer takes items until it sees the marker.
#include <unistd.h>

#include <iostream>
#include <string>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/queue.h"

int main() {
  const std::string name = "s10-items-" + std::to_string(getpid());
  if (auto q = ipc::Queue::Create(name, {.maxsize = 4}); !q.ok()) {
    return examples::Fail("s10", q.status());
  }
  const pid_t producer = examples::Spawn(0, [&](int) {
    auto q = ipc::Queue::Open(name);
    if (!q.ok()) return 1;
    for (int i = 1; i <= 10; ++i) {
      if (!q->Put("item " + std::to_string(i)).ok()) return 2;
    }
    return q->Put("END").ok() ? 0 : 3;  // The end-of-stream marker.
  });
  const pid_t consumer = examples::Spawn(1, [&](int) {
    auto q = ipc::Queue::Open(name);
    if (!q.ok()) return 1;
    int count = 0;
    for (;;) {
      auto item = q->Get(std::chrono::seconds(10));
      if (!item.ok()) return examples::Fail("consumer", item.status());
      if (*item == "END") break;
      ++count;
    }
    std::cout << "consumed " << count << " items" << std::endl;
    return 0;
  });
  const bool ok = examples::WaitAll({producer, consumer});
  (void)ipc::Queue::Unlink(name);
  return ok ? 0 : 1;
}
