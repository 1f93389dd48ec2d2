// pool-bench: one ipc::Pool::Map of tiny tasks (squaring an int64), timed
// as bench/python_pool.py times multiprocessing.Pool.map: in a pool that
// has started and already run the same Map once (a long-lived pool's
// steady state, not its start-up). Prints one JSON line.
//   pool-bench TASKS WORKERS CHUNKSIZE
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <vector>

#include "ipc/pool.h"

namespace {

int64_t Square(const int64_t& x) { return x * x; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: pool-bench TASKS WORKERS CHUNKSIZE\n";
    return 2;
  }
  const size_t tasks = std::strtoull(argv[1], nullptr, 10);
  const size_t workers = std::strtoull(argv[2], nullptr, 10);
  const size_t chunksize = std::strtoull(argv[3], nullptr, 10);
  auto pool = ipc::Pool::Create({.workers = workers});
  if (!pool.ok()) {
    std::cerr << "pool-bench: " << pool.status() << "\n";
    return 1;
  }
  std::vector<int64_t> inputs(tasks);
  std::iota(inputs.begin(), inputs.end(), 0);
  if (!pool->Map(Square, inputs, chunksize).ok())
    return 1;  // The untimed first run.

  const auto start = std::chrono::steady_clock::now();
  auto out = pool->Map(Square, inputs, chunksize);
  const std::chrono::duration<double> seconds =
      std::chrono::steady_clock::now() - start;
  if (!out.ok()) {
    std::cerr << "pool-bench: " << out.status() << "\n";
    return 1;
  }
  const int64_t last = static_cast<int64_t>(tasks) - 1;
  if (tasks > 0 && out->back() != last * last) return 1;
  std::printf(
      "{\"bench\": \"ipc::Pool::Map\", \"tasks\": %zu, \"workers\": %zu, "
      "\"chunksize\": %zu, "
      "\"seconds\": %.6f}\n",
      tasks, workers, chunksize, seconds.count());
  return 0;
}
