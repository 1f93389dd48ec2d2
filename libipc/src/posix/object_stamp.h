// ObjectStamp: the first bytes of every shared-memory object libipc creates,
// so stale objects can be recognised, attributed to the process that made
// them, and removed once that process is gone (ipc::ListObjects,
// `ipcctl clean`).
#ifndef IPC_SRC_POSIX_OBJECT_STAMP_H_
#define IPC_SRC_POSIX_OBJECT_STAMP_H_

#include <sys/types.h>

#include <cstdint>

namespace ipc::internal {

inline constexpr char kObjectMagic[8] = {'L', 'I', 'B', 'I', 'P', 'C', 0, 1};

// What a stamped object is. Values are stored in shared memory: append only.
enum class ObjectKind : uint32_t {
  kShmChannel = 1,
  kSemaphore = 2,
  kMutex = 3,
  kRecursiveMutex = 4,
  kEvent = 5,
  kSharedMemory = 6,
  kCondition = 7,
  kBarrier = 8,
  kQueue = 9,
  kSharedDict = 10,
};

// The /dev/shm prefix of every object libipc names.
inline constexpr char kObjectPrefix[] = "libipc.";

struct ObjectStamp {
  char magic[8];
  uint32_t kind;          // An ObjectKind.
  int32_t creator_pid;
  uint64_t creator_start;  // Start time of creator_pid (clock ticks since
                           // boot), so a reused pid is not mistaken for it.
};

// Fills stamp for the calling process.
void StampObject(ObjectStamp* stamp, ObjectKind kind);

// The start time of pid from /proc/PID/stat, or 0 if there is no such
// process.
uint64_t ProcessStartTime(pid_t pid);

// True when the process that made the object is still running.
bool StampOwnerAlive(const ObjectStamp& stamp);

}  // namespace ipc::internal

#endif  // IPC_SRC_POSIX_OBJECT_STAMP_H_
