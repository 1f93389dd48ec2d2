// The whole public API of libipc in one include.
#ifndef IPC_IPC_H_
#define IPC_IPC_H_

#include "ipc/barrier.h"
#include "ipc/capabilities.h"
#include "ipc/channel.h"
#include "ipc/deadline.h"
#include "ipc/condition.h"
#include "ipc/event.h"
#include "ipc/manager.h"
#include "ipc/message.h"
#include "ipc/mutex.h"
#include "ipc/objects.h"
#include "ipc/queue.h"
#include "ipc/semaphore.h"
#include "ipc/shared_memory.h"
#include "ipc/shared_value.h"
#include "ipc/result.h"
#include "ipc/status.h"
#include "ipc/url.h"
#include "ipc/value.h"

#endif  // IPC_IPC_H_
