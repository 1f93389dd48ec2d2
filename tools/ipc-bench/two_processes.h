// Running a measurement in two pinned processes, and the hardware floor
// (cache-line round trip between the two CPUs, memcpy bandwidth) that any
// IPC mechanism between them is bounded by.
#ifndef IPC_TOOLS_IPC_BENCH_TWO_PROCESSES_H_
#define IPC_TOOLS_IPC_BENCH_TWO_PROCESSES_H_

#include <functional>
#include <string>
#include <vector>

#include "ipc/status.h"

namespace bench {

// Pins the calling process to cpu; a failure is reported, not fatal.
ipc::Status PinTo(int cpu);

// Forks: the child pins to cpus[1] and runs child() (its return value is its
// exit code); the parent pins to cpus[0], runs parent(), then reaps the
// child. Fails if either side fails. With cpus empty, nothing is pinned.
ipc::Status RunInTwoProcesses(const std::vector<int>& cpus,
                              const std::function<ipc::Status()>& parent,
                              const std::function<int()>& child);

struct Floor {
  double cacheline_rtt_ns = 0;  // Median over many round trips.
  // One thread copying memcpy_size bytes (the message size) from one
  // reused, pre-faulted buffer to another, on cpus[0]: the warm-buffer
  // condition a channel's sender and receiver are in. Median of rounds.
  double memcpy_gb_per_s = 0;
  size_t memcpy_size = 0;
};
Floor MeasureFloor(const std::vector<int>& cpus, size_t message_size);

}  // namespace bench

#endif  // IPC_TOOLS_IPC_BENCH_TWO_PROCESSES_H_
