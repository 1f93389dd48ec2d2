// Listing and cleaning up the named objects libipc leaves in /dev/shm.
//
// Every shared-memory object libipc creates is named "libipc.<type>.<name>"
// and starts with a stamp naming the process that created it (pid and start
// time, so a recycled pid is not mistaken for it). An object whose creator
// has exited is stale: the same rule Python's resource tracker applies.
// `ipcctl clean` is the command-line face of these functions.
//
// Thread safety: free functions with no shared state.
#ifndef IPC_OBJECTS_H_
#define IPC_OBJECTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/result.h"

namespace ipc {

struct ObjectInfo {
  std::string name;       // Under /dev/shm, e.g. "libipc.sem.jobs".
  std::string kind;       // "semaphore", "shm-channel", ... or "unknown".
  int creator_pid = 0;    // 0 when the object carries no readable stamp.
  bool creator_alive = false;
  uint64_t size = 0;      // Bytes.
};

// Every libipc object in /dev/shm that this user can see.
Result<std::vector<ObjectInfo>> ListObjects();

// Removes every object whose creator is gone and returns them; with dry_run,
// returns what it would remove and removes nothing. Objects of live
// processes, and objects whose creator cannot be determined, are kept.
Result<std::vector<ObjectInfo>> CleanStaleObjects(bool dry_run = false);

// Removes one object by its /dev/shm name, only if its creator is gone.
// kAddressInUse if the creator is alive; kNotFound if there is no such
// libipc object.
Status RemoveStaleObject(std::string_view name);

}  // namespace ipc

#endif  // IPC_OBJECTS_H_
