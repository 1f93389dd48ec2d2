// S18, worker pool: Pool(4).map(square, [1..5]) -> [1, 4, 9, 16, 25]. Four
// worker processes take (index, x) tasks from one queue and put (index,
// x*x) on another; the parent puts the results back in order.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/queue.h"

int main() {
  const std::string id = std::to_string(getpid());
  const std::string tasks_name = "s18-tasks-" + id, results_name = "s18-results-" + id;
  auto tasks = ipc::Queue::Create(tasks_name);
  auto results = ipc::Queue::Create(results_name);
  if (!tasks.ok()) return examples::Fail("s18", tasks.status());
  if (!results.ok()) return examples::Fail("s18", results.status());

  std::vector<pid_t> workers;
  for (int w = 0; w < 4; ++w) {
    workers.push_back(examples::Spawn(w, [&](int) {
      auto in = ipc::Queue::Open(tasks_name);
      auto out = ipc::Queue::Open(results_name);
      if (!in.ok() || !out.ok()) return 1;
      for (;;) {
        auto task = in->Get(std::chrono::seconds(10));
        if (task.status().code() == ipc::ErrorCode::kClosed) return 0;  // No more work.
        if (!task.ok()) return 2;
        const size_t space = task->find(' ');
        const long x = std::stol(task->substr(space + 1));
        if (!out->Put(task->substr(0, space) + " " + std::to_string(x * x)).ok()) return 3;
      }
    }));
  }
  const std::vector<long> inputs = {1, 2, 3, 4, 5};
  for (size_t i = 0; i < inputs.size(); ++i) {
    (void)tasks->Put(std::to_string(i) + " " + std::to_string(inputs[i]));
  }
  std::vector<long> squares(inputs.size());
  for (size_t n = 0; n < inputs.size(); ++n) {
    auto r = results->Get(std::chrono::seconds(10));
    if (!r.ok()) return examples::Fail("s18", r.status());
    const size_t space = r->find(' ');
    squares[std::stoul(r->substr(0, space))] = std::stol(r->substr(space + 1));
  }
  (void)tasks->Close();  // Workers see kClosed and leave.
  const bool ok = examples::WaitAll(workers);
  std::cout << "[";
  for (size_t i = 0; i < squares.size(); ++i) std::cout << (i ? ", " : "") << squares[i];
  std::cout << "]" << std::endl;
  (void)ipc::Queue::Unlink(tasks_name);
  (void)ipc::Queue::Unlink(results_name);
  return ok ? 0 : 1;
}
