// ipc-bench: latency and throughput of any libipc URL between two pinned
// processes, optionally side by side with the raw mechanism in the same run.
// See bench_options.cc for the flags.
#include <sched.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "bench_options.h"
#include "channel_bench.h"
#include "measurement.h"
#include "raw_bench.h"
#include "two_processes.h"

int main(int argc, char** argv) {
  bool help = false;
  auto options = bench::ParseOptions(argc, argv, &help);
  if (help) {
    std::cout << bench::kUsage;
    return 0;
  }
  if (!options.ok()) {
    std::cerr << "ipc-bench: " << options.status().message() << "\n" << bench::kUsage;
    return 2;
  }
  // Pinning to CPUs this process may not use would fail later; say so now.
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    for (int cpu : options->cpus) {
      if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
        std::cerr << "ipc-bench: --cpus: cpu " << cpu
                  << " is not available here (use --cpus none)\n";
        return 2;
      }
    }
  }
  std::optional<bench::Floor> floor;
  if (options->floor) floor = bench::MeasureFloor(options->cpus, options->size);
  auto channel = bench::MeasureChannel(*options);
  if (!channel.ok()) {
    std::cerr << "ipc-bench: " << channel.status().message() << "\n";
    return 1;
  }
  std::optional<bench::Measurement> baseline;
  if (options->baseline) {
    auto raw = bench::MeasureRaw(*options);
    if (!raw.ok()) {
      std::cerr << "ipc-bench: baseline: " << raw.status().message() << "\n";
      return 1;
    }
    baseline = *raw;
  }
  bench::PrintReport(*options, *channel, baseline, floor);
  return 0;
}
