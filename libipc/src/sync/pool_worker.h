// The loop of an ipc::Pool worker process, after fork(): run the
// initializer, then answer each batch of tasks from the parent with one
// Results frame, until told to exit or the parent is gone.
#ifndef IPC_SRC_SYNC_POOL_WORKER_H_
#define IPC_SRC_SYNC_POOL_WORKER_H_

#include <cstdint>
#include <functional>

#include "ipc/channel.h"
#include "ipc/status.h"

namespace ipc::internal {

// The exit status of a worker that received a frame it could not parse
// (its parent reports it like any other exit status).
inline constexpr int kPoolWorkerBadFrameExit = 70;  // EX_SOFTWARE
// The exit status of a worker whose loop threw (std::bad_alloc outside a
// task, say); it is reported like any other exit status.
inline constexpr int kPoolWorkerExceptionExit = 71;  // EX_OSERR

// Never returns: the worker leaves with _exit(), so nothing of the parent's
// (atexit handlers, static destructors, other channels' buffers) runs here.
[[noreturn]] void RunPoolWorker(Channel channel,
                                const std::function<Status()>& initializer,
                                uint64_t secret);

}  // namespace ipc::internal

#endif  // IPC_SRC_SYNC_POOL_WORKER_H_
