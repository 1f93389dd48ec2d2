// The raw baselines: the same two patterns written directly on each
// mechanism's system calls (or, for shm, a minimal spinning shared-memory
// exchange), with fixed-size messages and no framing, no deadlines and no
// error model. The channel is measured against these in the same run.
#ifndef IPC_TOOLS_IPC_BENCH_RAW_BENCH_H_
#define IPC_TOOLS_IPC_BENCH_RAW_BENCH_H_

#include "bench_options.h"
#include "ipc/result.h"
#include "measurement.h"

namespace bench {

// kUnsupported when there is no baseline for the URL's scheme.
ipc::Result<Measurement> MeasureRaw(const Options& options);

}  // namespace bench

#endif  // IPC_TOOLS_IPC_BENCH_RAW_BENCH_H_
