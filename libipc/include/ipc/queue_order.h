// QueueOrder: the order a queue's readers take items in, shared by the
// shared-memory ipc::Queue and the daemon's queues (ipc::QueueProxy).
#ifndef IPC_QUEUE_ORDER_H_
#define IPC_QUEUE_ORDER_H_

#include <cstdint>

namespace ipc {

enum class QueueOrder : uint32_t {
  kFifo = 0,      // queue.Queue: the oldest first
  kLifo = 1,      // queue.LifoQueue: the newest first
  kPriority = 2,  // queue.PriorityQueue: lowest priority value first, FIFO among equals
};

}  // namespace ipc

#endif  // IPC_QUEUE_ORDER_H_
