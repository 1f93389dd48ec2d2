// ipc::Manager: the client of ipcd, the daemon that holds named shared
// objects for many processes (Python's multiprocessing.Manager, in C++).
//
//   auto manager = ipc::Manager::Connect().value();   // the default socket
//   auto hits = manager.Counter("hits");
//   ipc::Result<int64_t> n = hits.Add(1);             // atomic in the daemon
//   auto cfg = manager.Dict("cfg");
//   (void)cfg.Set("port", 8080);
//   {
//     auto guard = manager.Lock("cfg-lock").Acquire(std::chrono::seconds(5));
//     if (guard.ok()) { ... }                           // released at scope end
//   }
//
// Objects are created by their first use. Every call is one request to the
// daemon and returns a Status or Result; a blocking call (lock Acquire, queue
// Get and Put, event, barrier and condition Wait) takes a Deadline and waits in the daemon, not by
// polling.
//
// Redis: Connect("redis://host:6379") (or redis+unix://, redis+cluster://)
// gives the same proxies on Redis instead of ipcd; see Connect below and
// docs/redis.md.
//
// Connection. Connect("") uses DefaultUrl(); Connect("/run/ipcd.sock"), an
// absolute path, means unix:///run/ipcd.sock. When no daemon listens there,
// Connect fails at once with kNotFound ("ipcd at unix:///...: not running
// (connect: No such file or directory)") unless options.wait_for_daemon
// asks it to wait. If the connection is lost (the daemon stopped or
// restarted), the next call reconnects and proxies keep working; while no
// daemon listens, each call fails as fast as Connect did, with kNotFound,
// unless options.wait_for_daemon asks it to wait. A request the daemon may
// have applied before the connection broke is never re-sent: that call
// gives kClosed and the next one reconnects. Locks are leases of the
// connection: they are released when the connection closes — by Close(),
// by this process dying, by the daemon restarting, or by a call whose answer
// did not come in time (a blocking call's deadline plus a grace period, or
// reply_timeout; the connection is then dropped, since its replies can no
// longer be matched to calls).
//
// fork(): a child may keep using a Manager made before the fork; its first
// call opens the child's own connection (and session: it holds none of the
// parent's locks). Fork only while no other thread is inside a call on that
// Manager: as with any mutex, the child would inherit the connection's lock
// held, and its first call would wait forever.
//
// Costs: each call is one request and one reply on the connection (a round
// trip of the socket, about that of a pipe ping-pong); Batch() and pipelining
// amortize it over many operations.
//
// Thread safety: a Manager and its proxies may be used from any number of
// threads; calls share one connection and run one at a time, so a call that
// waits (a lock Acquire) delays the other threads' calls on that Manager.
// Give each thread that blocks its own Manager. Copies of a Manager share the
// connection.
//
// Public: everything here in namespace ipc; ipc::internal names are not.
#ifndef IPC_MANAGER_H_
#define IPC_MANAGER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/queue_order.h"
#include "ipc/result.h"
#include "ipc/value.h"
#include "ipc/watcher.h"

namespace ipc {

namespace internal {
class ManagerConnection;
}  // namespace internal

struct ManagerOptions {
  // The shared key for listeners that require one (ipcd's tcp:// listeners).
  // The daemon proves it knows the key too; the key never crosses the wire.
  std::string authkey;
  // A name for this client in the daemon's log; "" = the program's name.
  std::string client_name;
  // How long Connect, and a call that must reconnect, waits for a daemon
  // that is not listening (no socket file, or a refused one): set it to
  // ride out a daemon being started, or restarted, at the same time. 0:
  // fail at once with kNotFound, since usually no daemon is coming and a
  // wait would only stall the caller.
  std::chrono::milliseconds wait_for_daemon{0};
  // How long the hello (and authentication) may take once a daemon has
  // accepted the connection: one that is stopped or wedged can accept
  // without answering.
  std::chrono::milliseconds connect_timeout{10000};
  // Before sleeping until a reply comes, poll for it this long (0 = never).
  // When client and daemon run on different cores, where waking a sleeping
  // process costs 20-40 us, this cuts a synchronous call's round trip by
  // half or more (ipcd also polls briefly between requests). When replies do
  // not come that fast — a busy daemon, many clients, a shared core — the
  // client stops spinning for a while (1 to 64 calls after each miss), so
  // the CPU goes to the daemon instead.
  std::chrono::microseconds reply_spin{20};
  // How long a call that does not wait in the daemon (everything but lock
  // Acquire, queue Get/Put and event Wait, which wait until their deadline
  // plus 5 s) waits for its answer before it gives kDeadlineExceeded and
  // drops the connection: a daemon that is stopped (SIGSTOP) or wedged must
  // not hang its clients. 0 = wait forever.
  std::chrono::milliseconds reply_timeout{30000};
  // On a unix:// socket, move to the shared-memory channel the daemon
  // offers (it passes no data through the kernel: a synchronous call's
  // round trip is several times shorter). The move is negotiated in the
  // hello; when it cannot be made (a daemon without it, shm refused) the
  // connection stays on the socket, and with IPC_DEBUG=1 in the
  // environment libipc says why on stderr. channel_url() tells which.
  // Over shm the channel's own spin (20 us) replaces reply_spin.
  bool shared_memory = true;
  // Redis only (redis:// URLs; docs/redis.md): how long a lock or a
  // semaphore unit stays held after its holder's process stops renewing
  // it. No daemon sees a Redis client die, so a holder killed with SIGKILL
  // frees its lock only when this lease runs out; while the process lives
  // a thread renews it every third of the lease. Shorter frees a dead
  // holder's locks sooner; a process stalled (stopped, swapping) longer
  // than the lease loses them. At least 30 ms.
  std::chrono::milliseconds redis_lease{10000};
};

// One object as ListObjects reports it (see ObjectInfo in proto/ipcd.proto).
struct ManagedObject {
  std::string name;
  std::string kind;  // "dict", "counter", "lock", "condition", ... (proto's Kind)
  int64_t size = 0;  // keys, items, the counter's value, holds, or 1 if set
  int64_t bytes = 0;
  int64_t waiters = 0;
};

// Which page of objects ListObjectsPage asks for.
struct ListObjectsOptions {
  std::string prefix;  // Only names starting with it ("" = all).
  std::string after;   // Only names after it: the previous page's next.
  uint32_t limit = 0;  // At most this many; 0 (or over 1000) = 1000.
};

// One page of objects, in name order; next is empty on the last page.
struct ObjectPage {
  std::vector<ManagedObject> objects;
  std::string next;  // Pass as ListObjectsOptions::after for the next page.
};

// The daemon's counters and limits (see Stats in proto/ipcd.proto).
// How the daemon keeps its state (ipcd --state-dir; docs/ipcd.md).
struct ManagerPersistence {
  std::string state_dir;
  std::string fsync;                 // "always", "everysec" or "no".
  int64_t log_bytes = 0;             // Log written since the last snapshot.
  int64_t records_since_snapshot = 0;
  int64_t snapshot_bytes = 0;        // 0: no snapshot yet.
  int64_t last_sync_unix_ms = 0;     // 0: none since the daemon started.
  int64_t last_snapshot_unix_ms = 0; // 0: none since the daemon started.
  bool snapshot_running = false;
  std::string last_write_error;      // Empty: none since start.
  int64_t last_seq = 0;              // The newest log record.
};

struct ManagerStats {
  std::string server_version;
  int64_t uptime_ms = 0;
  int64_t clients = 0;
  int64_t objects = 0;
  int64_t bytes_held = 0;
  int64_t requests_total = 0;
  int64_t parked = 0;   // Blocking calls waiting in the daemon now.
  int64_t pending = 0;  // Requests read and not answered yet (parked or queued).
  int64_t watches = 0;  // Watches open now (every connection's).
  int64_t max_frame_bytes = 0;
  int64_t max_clients = 0;
  int64_t max_pending_per_client = 0;
  int64_t max_objects = 0;
  int64_t max_bytes = 0;
  // Unset when the daemon keeps its state in memory only.
  std::optional<ManagerPersistence> persistence;
};

// A proxy: a name bound to a Manager's connection. Cheap to copy (a string
// and a shared pointer); making one sends nothing. Thread safety: as the
// Manager's.
class ObjectProxy {
 public:
  const std::string& name() const { return name_; }

 protected:
  // Proxies come from Manager's Dict(), Counter(), ... factories only.
  friend class Manager;
  ObjectProxy(std::shared_ptr<internal::ManagerConnection> connection,
              std::string name)
      : connection_(std::move(connection)), name_(std::move(name)) {}

  std::shared_ptr<internal::ManagerConnection> connection_;
  std::string name_;
};

// A dict of string keys to Values. Keys, Values and Items come in key order.
class DictProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // kNotFound when key is absent.
  Result<Value> Get(std::string_view key) const;
  // fallback when key is absent.
  Result<Value> Get(std::string_view key, Value fallback) const;
  Status Set(std::string_view key, Value value);
  // kNotFound when key is absent.
  Status Delete(std::string_view key);
  Result<bool> Contains(std::string_view key) const;
  Result<int64_t> Len() const;
  Result<std::vector<std::string>> Keys() const;
  Result<std::vector<Value>> Values() const;
  Result<Value::Map> Items() const;
  Status Update(const Value::Map& entries);
  // Removes key and returns its value; kNotFound (or fallback) when absent.
  Result<Value> Pop(std::string_view key);
  Result<Value> Pop(std::string_view key, Value fallback);
  // key's value, after setting it to value if it was absent.
  Result<Value> SetDefault(std::string_view key, Value value);
  Status Clear();
  // Sets key to desired if its value equals expected (nullopt: if key is
  // absent). True when it did.
  Result<bool> CompareAndSet(std::string_view key,
                             std::optional<Value> expected, Value desired);

  // Typed reads, one Get each: key's value when it holds that kind, fallback
  // when key is absent, and kInvalidArgument naming the dict, the key and
  // the kind it holds otherwise (a wrong kind is a bug to report, not a
  // value to paper over with the fallback). GetDouble also takes an int.
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  Result<double> GetDouble(std::string_view key, double fallback) const;
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  Result<std::string> GetString(std::string_view key,
                                std::string_view fallback) const;

  // What Modify calls: the key's current value (nullopt when absent) to the
  // value to store, or an error Status to stop without storing.
  using Modifier =
      std::function<Result<Value>(const std::optional<Value>& current)>;
  // An atomic read-modify-write of one key without a lock, e.g. an
  // increment:
  //   dict.Modify("n", [](const std::optional<Value>& v) -> Result<Value> {
  //     if (!v) return 1;                           // absent: the first
  //     IPC_ASSIGN_OR_RETURN(int64_t n, v->AsInt());  // not an int: stop
  //     return n + 1;
  //   });
  // Reads the value, calls fn, and stores fn's result with CompareAndSet;
  // if another client changed the key in between, calls fn again on the
  // value that won (which the failed CompareAndSet returns, so a retry is
  // one round trip). Returns the value stored, or fn's error. fn may run
  // several times, so it should only compute from its argument; it runs on
  // the calling thread with no lock held, so it may itself use the Manager.
  //
  // Contention: each round some client's store wins, so all make progress,
  // but one caller may lose round after round; the deadline bounds that:
  // kDeadlineExceeded (nothing stored by this call) when it passes before a
  // store won. One try is always made, even with Deadline::Now(). A value
  // holding a NaN double never equals itself, so no CompareAndSet can
  // match it: kInvalidArgument at once. A lost connection gives kClosed
  // and is not retried: the store may have been applied.
  Result<Value> Modify(std::string_view key, const Modifier& fn,
                       Deadline deadline = Deadline::Infinite());
};

// An int64 changed atomically by the daemon; no lock needed.
class CounterProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // Adds delta (may be negative) and returns the new value; kInvalidArgument
  // on int64 overflow, which changes nothing.
  Result<int64_t> Add(int64_t delta = 1);
  Result<int64_t> Get() const;
  Status Set(int64_t value);
  // Sets the value to desired if it equals expected. True when it did.
  Result<bool> CompareAndSet(int64_t expected, int64_t desired);
};

// A lock (or, from Manager::RLock, a re-entrant lock) leased to this
// Manager's connection: if the process dies, the daemon releases it and the
// next waiter gets it.
class LockProxy : public ObjectProxy {
 public:
  // Holds the lock until destroyed or Release()d. Move-only.
  class Guard {
   public:
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();
    // Releases now; further calls do nothing. kClosed when the connection
    // that held the lock was lost meanwhile (the daemon released it then).
    Status Release();

   private:
    friend class LockProxy;
    Guard(const LockProxy& lock, uint64_t generation);
    std::unique_ptr<LockProxy> lock_;  // Null once released or moved from.
    // The connection the lock was taken on: a guard never releases a hold
    // taken since on a newer connection.
    uint64_t generation_ = 0;
  };

  // Waits until the deadline for the lock: kDeadlineExceeded when it
  // passed (Deadline::Now() included) with the lock held by another
  // client. A plain lock's holder acquiring it again gets kInvalidArgument.
  Result<Guard> Acquire(Deadline deadline = Deadline::Infinite());
  // The same without a guard: the caller must Release().
  Status AcquireRaw(Deadline deadline = Deadline::Infinite());
  // Releases one hold; kInvalidArgument unless this Manager holds the lock.
  Status Release();
  bool recursive() const { return recursive_; }

 private:
  friend class Manager;
  LockProxy(std::shared_ptr<internal::ManagerConnection> connection,
            std::string name, bool recursive)
      : ObjectProxy(std::move(connection), std::move(name)),
        recursive_(recursive) {}
  Status AcquireHold(Deadline deadline, uint64_t* generation);
  Status ReleaseHold(uint64_t only_generation);
  bool recursive_;
};

// A FIFO of Values, unbounded unless created with a capacity.
class QueueProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // Creates the queue with at most capacity items (0 = unbounded) taken in
  // order if it does not exist yet; kInvalidArgument if it exists with
  // another capacity or order. A queue made by a first Put or Get is an
  // unbounded FIFO.
  Status Create(int64_t capacity, QueueOrder order = QueueOrder::kFifo);
  // kFull when a bounded queue had no room before the deadline. In a
  // priority queue the item takes priority 0.
  Status Put(Value value, Deadline deadline = Deadline::Infinite());
  // Put on a priority queue (lower is taken first); kInvalidArgument on a
  // queue of another order.
  Status PutWithPriority(int64_t priority, Value value,
                         Deadline deadline = Deadline::Infinite());
  // kEmpty when nothing came before the deadline; kClosed when closed and
  // drained.
  Result<Value> Get(Deadline deadline = Deadline::Infinite());
  Result<int64_t> Size() const;
  // Refuses further Puts; Gets drain what is left, then give kClosed.
  Status Close();
  // Tasks (Python's task_done and join): every Put adds one; TaskDone ends
  // one (kInvalidArgument when none is unfinished) and returns how many
  // are left; Join waits until none is (kDeadlineExceeded).
  Result<int64_t> TaskDone();
  Status Join(Deadline deadline = Deadline::Infinite());
};

// A sequence of Values indexed from 0 (Python's list, in the daemon). An
// index may be negative, counting from the end (-1 is the last item); one
// outside the list is kInvalidArgument naming the index and the length.
class ListProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  Status Append(Value value);
  // Appends every item, all or none (kResourceExhausted at max_bytes).
  Status Extend(Value::List items);
  Result<Value> Get(int64_t index) const;
  Status Set(int64_t index, Value value);
  // Before index; past either end inserts at that end, as Python does.
  Status Insert(int64_t index, Value value);
  // Removes and returns the item at index (the last by default).
  Result<Value> Pop(int64_t index = -1);
  // Removes the first item equal to value; kNotFound when none is.
  Status Remove(const Value& value);
  // The index of the first item equal to value; kNotFound when none is.
  Result<int64_t> Index(const Value& value) const;
  Result<int64_t> Count(const Value& value) const;
  Result<int64_t> Len() const;
  // Items [start, stop), clamped to the list as Python's list[start:stop];
  // stop = nullopt: to the end. Slice() is the whole list.
  Result<Value::List> Slice(int64_t start = 0, std::optional<int64_t> stop = std::nullopt) const;
  Status Clear();
};

// Units that connections take and give back (Python's Semaphore and
// BoundedSemaphore, in the daemon). Acquire parks in the daemon, first come
// first served, until a unit is free; the units a connection took are
// given back when it closes (a process killed holding units leaks none).
// Not kept by the daemon's state log. Release without a unit taken adds
// one (a bounded semaphore refuses one past its initial units).
class SemaphoreProxy : public ObjectProxy {
 public:
  // Creates it with initial units if it does not exist yet (a first use
  // without Create makes it with 1); kInvalidArgument if it exists with
  // another number.
  Status Create(int64_t initial);
  // kDeadlineExceeded when no unit was free before the deadline.
  Status Acquire(Deadline deadline = Deadline::Infinite());
  Status Release();
  // The units free now.
  Result<int64_t> Value() const;

 private:
  friend class Manager;
  SemaphoreProxy(std::shared_ptr<internal::ManagerConnection> connection, std::string name,
                 bool bounded)
      : ObjectProxy(std::move(connection), std::move(name)), bounded_(bounded) {}
  bool bounded_;
};

// One Value in the daemon (Python's manager Value, of any type a Value
// holds). It holds null until set, or the value of the Create that made it.
class ValueProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // Makes it holding initial if it does not exist; an existing one keeps
  // its value.
  Status Create(Value initial);
  Result<Value> Get() const;
  Status Set(Value value);
  // Sets desired if the value equals expected; false (and nothing changed)
  // otherwise.
  Result<bool> CompareAndSet(const Value& expected, Value desired);
};

// Named attributes (Python's manager Namespace): a dict of attributes with
// a namespace's operations.
class NamespaceProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // kNotFound naming the attribute when it is not set.
  Result<Value> Get(std::string_view attribute) const;
  Status Set(std::string_view attribute, Value value);
  // kNotFound when it is not set.
  Status Delete(std::string_view attribute);
  Result<bool> Contains(std::string_view attribute) const;
  // Every attribute and its value, in name order.
  Result<Value::Map> Items() const;
};

// Parties that meet (Python's threading.Barrier, in the daemon): Wait parks
// until `parties` connections wait, then each gets its arrival index (0 to
// parties - 1). A Wait that times out (kDeadlineExceeded) breaks the
// barrier, as does a waiting party whose process dies; a broken barrier
// answers Wait with kClosed until Reset. Not kept by the state log.
class BarrierProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  // Makes it for parties (>= 1) if it does not exist; kInvalidArgument if
  // it exists for another number.
  Status Create(int64_t parties);
  // kInvalidArgument when the barrier was never created.
  Result<int64_t> Wait(Deadline deadline = Deadline::Infinite());
  // Breaks it: waiting parties get kClosed.
  Status Abort();
  // Waiting parties get kClosed, and the barrier is whole again.
  Status Reset();
  Result<bool> Broken() const;
  Result<int64_t> Parties() const;
  Result<int64_t> Waiting() const;  // Parties waiting now.
};

// A flag that can be waited for (Python's threading.Event): Set wakes every
// waiter, Wait parks in the daemon until the flag is set.
class EventProxy : public ObjectProxy {
 public:
  using ObjectProxy::ObjectProxy;
  Status Set();
  Status Clear();
  Result<bool> IsSet() const;
  // kDeadlineExceeded when the event was not set before the deadline.
  Status Wait(Deadline deadline = Deadline::Infinite());
};

// A condition variable bound to a lock of the daemon (Python's
// manager.Condition(lock)): Wait releases the lock, parks in the daemon
// until a Notify or the deadline, and returns once this Manager holds the
// lock again. Wait and Notify both need the lock held by this Manager.
//
//   auto lock = manager.Lock("jobs-lock");
//   auto ready = manager.Condition("jobs-ready", lock);
//   auto jobs = manager.Counter("jobs");
//   // A consumer:
//   auto guard = lock.Acquire().value();
//   ipc::Status got = ready.WaitFor([&]() -> ipc::Result<bool> {
//     IPC_ASSIGN_OR_RETURN(int64_t n, jobs.Get());
//     return n > 0;
//   }, std::chrono::seconds(10));                      // lock held again
//   // A producer, holding the lock:
//   (void)jobs.Add(1);
//   (void)ready.Notify();
//
// Waiters wake oldest first; a woken waiter then queues for the lock
// behind the clients already waiting for it. A waiter whose process dies
// is dropped and never gets the lock, and a Notify passes over it once the
// daemon knows. Not kept by the daemon's state log.
//
// Thread safety: as the Manager's. The lock belongs to the Manager's
// connection, so threads sharing a Manager share it, and a Wait holds up
// their calls until it returns: give each waiting thread its own Manager.
class ConditionProxy : public ObjectProxy {
 public:
  // Makes the condition, bound to its lock, if it does not exist (a first
  // Wait or Notify makes it too). kNotFound when the lock does not exist,
  // kInvalidArgument when that name holds another kind of object or the
  // condition is bound to another lock.
  Status Create();
  // REQUIRES: this Manager holds the lock.
  // Ok when notified, kDeadlineExceeded when the deadline passed first
  // (Deadline::Now() included). Either way the lock is held again, with
  // the holds it had (an rlock's too), so the return may come after the
  // deadline, once the lock is free (the answer is awaited without a
  // reply timeout, as a lock's Acquire without a deadline is). kInvalidArgument naming the lock and
  // the condition when this Manager does not hold the lock; kClosed, the
  // lock not held, when the lock or the condition was destroyed meanwhile.
  Status Wait(Deadline deadline = Deadline::Infinite());
  // What WaitFor asks, with the lock held: is the awaited state reached?
  // An error stops WaitFor, which returns it.
  using Predicate = std::function<Result<bool>()>;
  // Waits until predicate() is true (Python's wait_for): Ok as soon as it
  // is, at once if it already is; kDeadlineExceeded when the deadline
  // passed with it still false. REQUIRES and ensures the lock held, as
  // Wait.
  Status WaitFor(const Predicate& predicate, Deadline deadline = Deadline::Infinite());
  // Wakes the oldest n waiters (n >= 1, else kInvalidArgument) and returns
  // how many it woke (0 when none waits). kInvalidArgument when this
  // Manager does not hold the lock.
  Result<int64_t> Notify(int64_t n = 1);
  Result<int64_t> NotifyAll();
  // The name of the lock the daemon has it bound to; kNotFound when the
  // condition does not exist.
  Result<std::string> BoundLock() const;
  // Clients waiting for a notify now.
  Result<int64_t> Waiting() const;
  // The lock it is bound to, as given to Manager::Condition.
  const LockProxy& lock() const { return lock_; }

 private:
  friend class Manager;
  ConditionProxy(std::shared_ptr<internal::ManagerConnection> connection, std::string name,
                 LockProxy lock)
      : ObjectProxy(std::move(connection), std::move(name)), lock_(std::move(lock)) {}
  Result<int64_t> RunNotify(bool all, int64_t n);
  LockProxy lock_;
};

// Several calls sent together. Run() sends them as one request that the
// daemon applies in one step (no other client's request runs in between;
// blocking calls do not wait, so a QueuePut on a full queue gives kFull).
// RunPipelined() sends each as its own request without waiting for replies,
// then reads the replies. Either returns one Result per call, in order (a
// counter's new or current value as an int, a dict value, or a null Value
// for an operation with nothing to return), or the Status of the connection
// if it failed (calls not answered then may or may not have been applied).
// The calls stay in the batch, so it may be run again; clear() empties it.
//
// Thread safety: a batch is a plain value of one thread; copies share the
// list of calls.
class ManagerBatch {
 public:
  ManagerBatch& CounterAdd(std::string_view counter, int64_t delta);
  ManagerBatch& CounterGet(std::string_view counter);
  ManagerBatch& DictSet(std::string_view dict, std::string_view key, Value value);
  ManagerBatch& DictGet(std::string_view dict, std::string_view key);
  ManagerBatch& DictDelete(std::string_view dict, std::string_view key);
  ManagerBatch& QueuePut(std::string_view queue, Value value);
  size_t size() const;
  void clear();

  Result<std::vector<Result<Value>>> Run();
  Result<std::vector<Result<Value>>> RunPipelined();

 private:
  friend class Manager;
  struct Calls;
  explicit ManagerBatch(std::shared_ptr<internal::ManagerConnection> connection);
  std::shared_ptr<internal::ManagerConnection> connection_;
  std::shared_ptr<Calls> calls_;
};

class Manager {
 public:
  // Connects to ipcd at url and says hello. url is "" (DefaultUrl()),
  // unix:///path/to/ipcd.sock, an absolute socket path such as
  // "/run/ipcd/ipcd.sock" (taken as unix://PATH; url() then reports that
  // form), unix://@abstract-name, tcp://host:port, or shm://name (a daemon
  // started with --listen shm://name; docs/ipcd.md). A relative path or
  // another scheme is kInvalidArgument naming the input: relative paths
  // would depend on each process's working directory. kNotFound naming the
  // URL when no daemon listens there (kDeadlineExceeded if
  // options.wait_for_daemon passed), kPermissionDenied when the key is wrong
  // or missing, kUnsupported when the daemon speaks another protocol
  // version.
  // A redis://[user:password@]host:port[/db], redis+unix:///path[?db=N] or
  // redis+cluster://host:port[,host:port...] URL runs the same proxies on
  // Redis 7 instead (the password, when the URL has none, is
  // options.authkey; docs/redis.md lists what differs: locks are leases,
  // no watches).
  static Result<Manager> Connect(std::string_view url = "",
                                 ManagerOptions options = {});

  // Where the daemon listens by default, as a unix:// URL: $IPCD_SOCKET if
  // set, else $RUNTIME_DIRECTORY/ipcd.sock (set by systemd for the daemon),
  // else $XDG_RUNTIME_DIR/ipcd/ipcd.sock, else /tmp/ipcd-$UID/ipcd.sock.
  // For a client only, when that file does not exist and the system
  // daemon's /run/ipcd/ipcd.sock does, that one.
  static std::string DefaultUrl();

  // Reads an authentication key file the way ipcd reads --authkey-file: its
  // bytes with one trailing newline removed. kPermissionDenied when others
  // than its owner may read it ("chmod 600"), kInvalidArgument when empty.
  static Result<std::string> ReadAuthKeyFile(const std::string& path);

  DictProxy Dict(std::string name) const;
  CounterProxy Counter(std::string name) const;
  LockProxy Lock(std::string name) const;
  LockProxy RLock(std::string name) const;
  QueueProxy Queue(std::string name) const;
  EventProxy Event(std::string name) const;
  ListProxy List(std::string name) const;
  SemaphoreProxy Semaphore(std::string name) const;
  SemaphoreProxy BoundedSemaphore(std::string name) const;
  // Named as Python's Manager names it; inside Manager's own scope the
  // name hides the type ipc::Value (write ipc::Value there).
  ValueProxy Value(std::string name) const;
  NamespaceProxy Namespace(std::string name) const;
  BarrierProxy Barrier(std::string name) const;
  // A condition bound to lock, which must be a proxy of this Manager (the
  // lock is held by a connection). A lock given by name is a plain lock;
  // pass RLock(name) for an rlock. A condition that exists may be named
  // with lock_name "": its calls then use the lock it is bound to, which
  // BoundLock() tells.
  ConditionProxy Condition(std::string name, const LockProxy& lock) const;
  ConditionProxy Condition(std::string name, std::string lock_name) const;
  ManagerBatch Batch() const;

  // Streams the changes of the object `name` (of any kind, existing or
  // not), or with key those of one key of a dict or namespace (see
  // ipc/watcher.h). Opens a connection of the watcher's own and returns
  // once the daemon has sent the current state, which the first Next()
  // gives. kInvalidArgument for a bad name, an empty key, or a key of an
  // object that has no keys.
  Result<Watcher> Watch(std::string name,
                        std::optional<std::string> key = std::nullopt) const;

  // Every object whose name starts with prefix, in name order, asked for
  // a page at a time. Not a snapshot: an object made or destroyed while
  // the pages are read may be missing or shown.
  Result<std::vector<ManagedObject>> ListObjects(std::string_view prefix = "") const;
  // One page (see ListObjects in proto/ipcd.proto).
  Result<ObjectPage> ListObjectsPage(const ListObjectsOptions& options) const;
  Result<ManagerStats> Stats() const;
  // Removes the object of that name, whatever its kind; waiters on it get
  // kClosed. kNotFound when there is none.
  Status Destroy(std::string_view name) const;

  // The URL connected to.
  const std::string& url() const;
  // The channel in use: on a unix:// daemon, normally its shm:// upgrade
  // URL (see ManagerOptions::shared_memory); else url(). "" while the
  // connection is down (the next call reconnects).
  std::string channel_url() const;
  // Closes the connection (releasing this client's locks). Later calls
  // reconnect. Waits for a call in progress on another thread.
  void Close() const;

 private:
  explicit Manager(std::shared_ptr<internal::ManagerConnection> connection)
      : connection_(std::move(connection)) {}
  std::shared_ptr<internal::ManagerConnection> connection_;
};

}  // namespace ipc

#endif  // IPC_MANAGER_H_
