// ipc::SharedDict: a named dict of byte-string keys and values that
// processes share without a daemon, like a multiprocessing.Manager().dict()
// with no manager process.
//
//   auto d = ipc::SharedDict::OpenOrCreate("config").value();    // every process
//   (void)d.Set("mode", "fast");
//   ipc::Result<std::string> mode = d.Get("mode");   // kNotFound: no such key
//   (void)d.SetValue("port", 8080);                   // an ipc::Value
//   int64_t port = d.GetValue("port")->AsInt().value();
//
// Storage: one segment, /dev/shm/libipc.dict.NAME (owner-only unless a mode
// is given, sized with posix_fallocate, stamped for `ipcctl clean`), whose
// entries live in a Boost.Interprocess managed area: a boost::container::map
// of strings allocated in the segment, so every process maps the same tree
// and a Get is a lookup in memory, no system call and no copy but the
// value's. Values set with SetValue are stored in the protocol's encoding
// (proto/ipcd.proto's Value, as ipcd stores them); Get returns those bytes.
//
// Locking: every call takes the dict's lock, the robust process-shared
// mutex that ipc::Mutex is built on, kept in the segment (never a Boost
// mutex: Boost 1.74's are not robust, and the area's allocator runs under
// ours without a lock of its own). Each call that can block takes a
// deadline for the lock: kDeadlineExceeded, or kWouldBlock for
// Deadline::Now(), when it is not had in time.
//
// Capacity is fixed at creation (SharedDictOptions::capacity): the whole
// segment is reserved then, and a change that does not fit is kFull, naming
// the option, with the dict unchanged. It does not grow.
//
// A process that dies holding the lock:
//   - outside a change (it was reading, or between changes): the next
//     caller takes the lock over and carries on; the dict is intact, and
//     Stats().owner_deaths counts the event.
//   - in the middle of a change (Set, Update, Pop, Clear, ... between its
//     first and last write into the segment): the tree or the allocator may
//     be torn, so the dict refuses to be used. Every call, in every
//     process, returns kNotRecoverable naming the dead process, until
//     Reset() empties it (or Unlink and create it again). Never a crash, a
//     hang or silently wrong contents.
//   A change is atomic while its process lives: Update applies all its
//   pairs or, if one does not fit, none.
//
// Trust: the segment holds offsets that the library follows, so every
// process that may open it is trusted with the dict's integrity; the mode
// says who may (0600 by default: this user). Open() refuses a segment whose
// owner is not admitted (see ipc/shared_memory.h, "Trust") and one whose
// header is out of bounds, and every lock re-checks the header's offsets.
//
// Thread safety: any thread of any process that opened it; a SharedDict
// object may be used by several threads at once, and survives fork()
// (parent and child share the dict).
#ifndef IPC_SHARED_DICT_H_
#define IPC_SHARED_DICT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/result.h"
#include "ipc/value.h"

namespace ipc {

struct SharedDictOptions {
  // Bytes reserved for keys, values and the tree: about 130 bytes per
  // entry beside a key or value longer than 22 bytes (shorter ones are
  // held inline). 4 KiB to 64 GiB.
  size_t capacity = size_t{8} << 20;
  uint32_t mode = 0600;
};

struct SharedDictStats {
  size_t size = 0;            // Keys.
  size_t capacity = 0;        // SharedDictOptions::capacity.
  size_t free_bytes = 0;      // Of the capacity, not yet allocated.
  uint64_t owner_deaths = 0;  // Holders that died outside a change.
};

class SharedDict {
 public:
  using Items = std::vector<std::pair<std::string, std::string>>;

  // Creates the dict; kAddressInUse if NAME exists. NAME: letters, digits,
  // '.', '_', '-'; at most 200.
  static Result<SharedDict> Create(std::string_view name,
                                   const SharedDictOptions& options = {});
  // Opens an existing dict; kNotFound if there is none. `mode` admits its
  // owner as SharedMemory::Open says.
  static Result<SharedDict> Open(std::string_view name, uint32_t mode = 0600);
  // Opens NAME, creating it with options if it does not exist (an existing
  // dict keeps its capacity).
  static Result<SharedDict> OpenOrCreate(std::string_view name,
                                         const SharedDictOptions& options = {});
  // Removes the name; processes that have it open keep using it.
  static Status Unlink(std::string_view name);

  SharedDict();
  ~SharedDict();
  SharedDict(SharedDict&&) noexcept;
  SharedDict& operator=(SharedDict&&) noexcept;

  // d[key]: kNotFound if absent.
  Result<std::string> Get(std::string_view key, Deadline deadline = Deadline::Infinite());
  // d[key] = value. kFull if it does not fit (the dict is unchanged).
  Status Set(std::string_view key, std::string_view value,
             Deadline deadline = Deadline::Infinite());
  // d.setdefault(key, value): the value now held under key.
  Result<std::string> SetDefault(std::string_view key, std::string_view value,
                                 Deadline deadline = Deadline::Infinite());
  // d.pop(key): removes and returns it; kNotFound if absent.
  Result<std::string> Pop(std::string_view key, Deadline deadline = Deadline::Infinite());
  // del d[key]: kNotFound if absent.
  Status Delete(std::string_view key, Deadline deadline = Deadline::Infinite());
  Result<bool> Contains(std::string_view key, Deadline deadline = Deadline::Infinite());
  // len(d).
  Result<size_t> Size(Deadline deadline = Deadline::Infinite());
  // Consistent snapshots (taken in one lock hold), in key order.
  Result<std::vector<std::string>> Keys(Deadline deadline = Deadline::Infinite());
  Result<Items> GetItems(Deadline deadline = Deadline::Infinite());
  Status Clear(Deadline deadline = Deadline::Infinite());
  // Sets key to desired if it holds `expected` (nullopt: if it is absent).
  // True when it did; false, with nothing changed, when the key held
  // something else.
  Result<bool> CompareAndSet(std::string_view key, std::optional<std::string_view> expected,
                             std::string_view desired,
                             Deadline deadline = Deadline::Infinite());
  // d.update(pairs): every pair in one lock hold, in order (a key given
  // twice ends with its last value); all or nothing. To be able to undo,
  // it writes each value to fresh space and frees the values it replaced
  // only at its end: in a nearly full dict it can be kFull where the same
  // Sets one at a time would fit.
  Status Update(const Items& pairs, Deadline deadline = Deadline::Infinite());

  // The same with ipc::Value, in the protocol's encoding. GetValue gives
  // kProtocolError if the bytes under key are not an encoded Value.
  Result<Value> GetValue(std::string_view key, Deadline deadline = Deadline::Infinite());
  Status SetValue(std::string_view key, const Value& value,
                  Deadline deadline = Deadline::Infinite());

  // Empties the dict and makes it usable again after a process died in the
  // middle of a change (the only way out of kNotRecoverable besides
  // Unlink). Works on a healthy dict too.
  Status Reset(Deadline deadline = Deadline::Infinite());
  Result<SharedDictStats> Stats(Deadline deadline = Deadline::Infinite());

  const std::string& name() const { return name_; }

 private:
  struct Mapping;
  class Locked;
  SharedDict(std::string name, std::unique_ptr<Mapping> mapping);
  static Result<SharedDict> Make(std::string_view name, const SharedDictOptions& options,
                                 bool create);

  std::string name_;
  std::unique_ptr<Mapping> mapping_;
};

}  // namespace ipc

#endif  // IPC_SHARED_DICT_H_
