// The robust, process-shared pthread mutex that every libipc lock in shared
// memory is built on (ipc::Mutex, ipc::SharedDict): building one in place,
// and locking it with a Deadline.
//
// Robust: when its holder dies, the next locker gets EOWNERDEAD and holds
// the lock; it must repair what the lock protects and call
// pthread_mutex_consistent(), or unlocking makes the mutex
// ENOTRECOVERABLE for everyone.
#ifndef IPC_SRC_SYNC_ROBUST_MUTEX_H_
#define IPC_SRC_SYNC_ROBUST_MUTEX_H_

#include <pthread.h>

#include "ipc/deadline.h"

namespace ipc::internal {

// Builds *m in place: process-shared and robust; recursive, or
// error-checking (relocking by the holder is EDEADLK, not a deadlock).
void InitRobustMutex(pthread_mutex_t* m, bool recursive);

// Locks *m by the deadline: blocks for Infinite(), tries once for Now(),
// waits on the monotonic clock otherwise. Returns pthread's code: 0,
// EOWNERDEAD (held), ENOTRECOVERABLE, ETIMEDOUT or EBUSY (not held),
// EDEADLK.
int LockRobustMutex(pthread_mutex_t* m, Deadline deadline);

}  // namespace ipc::internal

#endif  // IPC_SRC_SYNC_ROBUST_MUTEX_H_
