// S8, manager dict: Python's
//
//   d = Manager().dict({'count': 100})
//   # 10 processes, each: for _ in range(10): with lock: d['count'] -= 1
//   print(d)                                    # {'count': 0}
//
// with ipcd holding the dict and the lock. The lock is needed because
// "count -= 1" is a read and a write: two processes could read the same
// value. With --counter the same job uses an ipcd counter instead, whose
// Add(-1) the daemon applies atomically: no lock, one request per step.
//
//   s08_manager_dict [--counter] [--socket PATH | --url URL]
//
// Needs a running ipcd (e.g. `ipcd &`, or `systemctl start ipcd`); without
// --socket/--url it uses the default socket (ipc::Manager::DefaultUrl()).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/children.h"
#include "common/cli.h"
#include "ipc/manager.h"

namespace {

constexpr char kUsage[] =
    "usage: s08_manager_dict [--counter] [--socket PATH | --url URL]\n"
    "10 processes take 'count' from 100 down to 0 in an ipcd dict, each step\n"
    "under an ipcd lock (or, with --counter, with an atomic ipcd counter).";

constexpr int kWorkers = 10;
constexpr int kStepsPerWorker = 10;

// One worker: count -= 1 under the lock, kStepsPerWorker times. The Manager
// was connected by the parent; the child's first call opens its own
// connection.
int LockedDecrements(ipc::Manager& manager, const std::string& dict_name,
                     const std::string& lock_name) {
  auto dict = manager.Dict(dict_name);
  auto lock = manager.Lock(lock_name);
  for (int step = 0; step < kStepsPerWorker; ++step) {
    auto guard = lock.Acquire(std::chrono::seconds(30));
    if (!guard.ok()) return examples::Fail("worker", guard.status());
    auto count = dict.Get("count");
    if (!count.ok()) return examples::Fail("worker", count.status());
    const int64_t* n = count->if_int();
    if (n == nullptr) {
      std::cerr << "worker: 'count' is a " << ipc::KindName(count->kind())
                << ", not a number" << std::endl;
      return 1;
    }
    if (auto s = dict.Set("count", *n - 1); !s.ok()) {
      return examples::Fail("worker", s);
    }
  }  // The guard releases the lock at the end of each step.
  return 0;
}

int CounterDecrements(ipc::Manager& manager, const std::string& counter_name) {
  auto counter = manager.Counter(counter_name);
  for (int step = 0; step < kStepsPerWorker; ++step) {
    if (auto n = counter.Add(-1); !n.ok())
      return examples::Fail("worker", n.status());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv, kUsage);
  const bool use_counter = cli.Switch("--counter");
  const std::string socket = cli.Flag("--socket", "");
  std::string url = cli.Flag("--url", "");
  int exit_code = 0;
  if (!cli.Finish(0, &exit_code)) return exit_code;
  if (!cli.positional().empty() || (!socket.empty() && !url.empty())) {
    return cli.Usage(&exit_code);
  }
  if (!socket.empty()) url = "unix://" + socket;

  auto manager =
      ipc::Manager::Connect(url, {.client_name = "s08_manager_dict"});
  if (!manager.ok())
    return examples::Fail("s08_manager_dict", manager.status());

  // Names private to this run, so that runs side by side do not meet.
  const std::string base = "s08-" + std::to_string(getpid());
  const std::string dict_name = base + "-dict", lock_name = base + "-lock",
                    counter_name = base + "-count";
  auto dict = manager->Dict(dict_name);
  auto counter = manager->Counter(counter_name);
  ipc::Status start = use_counter ? counter.Set(100) : dict.Set("count", 100);
  if (!start.ok()) return examples::Fail("s08_manager_dict", start);

  std::vector<pid_t> workers;
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(examples::Spawn(i, [&](int) {
      return use_counter ? CounterDecrements(*manager, counter_name)
                         : LockedDecrements(*manager, dict_name, lock_name);
    }));
  }
  const bool all_ok = examples::WaitAll(workers);

  ipc::Result<int64_t> count =
      use_counter ? counter.Get() : [&]() -> ipc::Result<int64_t> {
    auto value = dict.Get("count");
    if (!value.ok()) return value.status();
    const int64_t* n = value->if_int();
    if (n == nullptr)
      return ipc::Status(ipc::ErrorCode::kInvalidArgument,
                         "'count' is not a number");
    return *n;
  }();
  for (const std::string& name : {dict_name, lock_name, counter_name}) {
    (void)manager->Destroy(name);  // Some were never made: kNotFound is fine.
  }
  if (!count.ok()) return examples::Fail("s08_manager_dict", count.status());
  std::cout << ipc::Value(ipc::Value::Map{{"count", *count}}).ToJson()
            << std::endl;
  return all_ok ? 0 : 1;
}
