// The two patterns over an ipc::Channel: ping-pong and one-way stream.
#ifndef IPC_TOOLS_IPC_BENCH_CHANNEL_BENCH_H_
#define IPC_TOOLS_IPC_BENCH_CHANNEL_BENCH_H_

#include "bench_options.h"
#include "ipc/result.h"
#include "measurement.h"

namespace bench {

// The parent process listens (or makes the pipe), the forked child
// connects. Pingpong: the parent sends, the child echoes. Stream: the child
// sends, the parent receives and measures. A one-way transport (fifo) gets a
// second channel at URL + ".back" for the echo.
ipc::Result<Measurement> MeasureChannel(const Options& options);

}  // namespace bench

#endif  // IPC_TOOLS_IPC_BENCH_CHANNEL_BENCH_H_
