// The shared-memory synchronization types of libipc in one include, without
// Protobuf: mutexes, semaphores, events, conditions, barriers, shared memory
// and shared values, the daemonless shared dict, and the /dev/shm object
// listing. ipc::Queue is not
// here: <ipc/queue.h> includes Protobuf's headers (for PutMessage and
// GetMessage); include it, or <ipc/ipc.h>, to use a queue.
#ifndef IPC_SYNC_H_
#define IPC_SYNC_H_

#include "ipc/barrier.h"
#include "ipc/condition.h"
#include "ipc/deadline.h"
#include "ipc/event.h"
#include "ipc/mutex.h"
#include "ipc/objects.h"
#include "ipc/result.h"
#include "ipc/semaphore.h"
#include "ipc/shared_dict.h"
#include "ipc/shared_memory.h"
#include "ipc/shared_value.h"
#include "ipc/status.h"

#endif  // IPC_SYNC_H_
