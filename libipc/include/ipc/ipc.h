// The whole public API of libipc in one include — and so Protobuf's headers
// too (<ipc/message.h>, <ipc/queue.h> and <ipc/pool.h> need them).
// Narrower headers that need no Protobuf include path:
//   <ipc/channel.h>  Listen, Connect, Pipe, Channel, Listener
//   <ipc/sync.h>     Mutex, Semaphore, Event, Condition, Barrier,
//                    SharedMemory, SharedValue/SharedArray, ListObjects
//   <ipc/manager.h>  Manager, the client of ipcd
// (README.md, "Using libipc from your project", has the table.)
//
// What is public: everything these headers declare in namespace ipc, and
// the IPC_RETURN_IF_ERROR / IPC_ASSIGN_OR_RETURN macros of <ipc/result.h>.
// Names in namespace ipc::internal (forward declarations the headers need)
// and macros ending in '_' are not: they may change in any release.
#ifndef IPC_IPC_H_
#define IPC_IPC_H_

#include "ipc/barrier.h"
#include "ipc/capabilities.h"
#include "ipc/channel.h"
#include "ipc/condition.h"
#include "ipc/deadline.h"
#include "ipc/event.h"
#include "ipc/manager.h"
#include "ipc/message.h"
#include "ipc/mutex.h"
#include "ipc/objects.h"
#include "ipc/pool.h"
#include "ipc/queue.h"
#include "ipc/result.h"
#include "ipc/semaphore.h"
#include "ipc/shared_dict.h"
#include "ipc/shared_memory.h"
#include "ipc/shared_value.h"
#include "ipc/status.h"
#include "ipc/sync.h"
#include "ipc/url.h"
#include "ipc/value.h"

#endif  // IPC_IPC_H_
