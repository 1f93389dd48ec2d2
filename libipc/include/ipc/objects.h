// Listing and cleaning up the named objects libipc leaves in /dev/shm.
//
// Objects are named here as everywhere else in libipc: by the NAME given
// to Create/Open/Unlink ("jobs"), with their kind beside it ("semaphore").
// The file behind them, /dev/shm/libipc.<tag>.<name>, is shown as `path`
// for reference only. Each starts with a stamp naming the process that
// created it (pid and start time, so a recycled pid is not mistaken for
// it). An object whose creator has exited is stale: the same rule Python's
// resource tracker applies. `ipcctl objects` and `ipcctl clean` are the
// command-line face of these functions.
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
  std::string name;       // As given to Create, e.g. "jobs".
  std::string kind;       // "semaphore", "mutex", "queue", ... "incomplete"
                          // (a creator died while building it) or "unknown".
  std::string path;       // The file, e.g. "/dev/shm/libipc.sem.jobs".
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

// Removes the objects called NAME (of every kind, or only of `kind` when it
// is not empty), only if their creator is gone. kAddressInUse if a creator
// is alive (nothing is removed then); kNotFound if there is no such object.
Status RemoveStaleObject(std::string_view name, std::string_view kind = "");

}  // namespace ipc

#endif  // IPC_OBJECTS_H_
