// What one run of a pattern measured, and how it is printed.
#ifndef IPC_TOOLS_IPC_BENCH_MEASUREMENT_H_
#define IPC_TOOLS_IPC_BENCH_MEASUREMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench_options.h"
#include "two_processes.h"

namespace bench {

struct Measurement {
  std::string what;  // "channel" or a description of the raw baseline.
  // pingpong:
  double p50_ns = 0, p99_ns = 0, p999_ns = 0;
  // stream:
  double msgs_per_s = 0, bytes_per_s = 0;
  long received = 0;  // Stream: messages that arrived (best effort may lose).
};

// Fills the percentiles from per-round-trip times (sorted in place).
void SetPercentiles(std::vector<int64_t>& rtt_ns, Measurement* m);

// Prints the report, human-readable or as one JSON object.
void PrintReport(const Options& options, const Measurement& channel,
                 const std::optional<Measurement>& baseline,
                 const std::optional<Floor>& floor);

}  // namespace bench

#endif  // IPC_TOOLS_IPC_BENCH_MEASUREMENT_H_
