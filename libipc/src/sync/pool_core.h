// The parent's side of ipc::Pool: the worker processes, the batches waiting
// for one, and the bookkeeping that gives every task exactly one outcome.
//
// All of it runs in the thread that calls into the pool (pool.h: one at a
// time); there is no dispatcher thread, so forking a replacement worker
// never happens while a thread of ours holds a lock the child would need.
#ifndef IPC_SRC_SYNC_POOL_CORE_H_
#define IPC_SRC_SYNC_POOL_CORE_H_

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "ipc/pool.h"

namespace ipc::internal {

class PoolCore {
 public:
  // Forks the workers and waits until each has run the initializer, for
  // at most options.start_timeout.
  static Result<std::shared_ptr<PoolCore>> Start(const PoolOptions& options);
  ~PoolCore();
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  // Queues job's tasks in batches of chunksize and sends what workers may
  // take. The reason the pool stopped (kClosed) if it did.
  Status Submit(std::shared_ptr<PoolJob> job, size_t chunksize);
  // One round: send, wait for the workers until something happens or the
  // deadline passes, handle it. deadline.ExpiredStatus once the deadline
  // has passed, even if something was handled; OK at once when there is
  // no worker to wait for.
  Status Pump(Deadline deadline);
  void Cancel(PoolJob& job);
  void Close();
  Status Join(Deadline deadline);
  // Kills the workers; every unfinished task fails with reason.
  void Terminate(const Status& reason);

  size_t size() const { return size_; }
  std::vector<pid_t> pids() const;

 private:
  struct Batch {
    uint64_t id;
    std::shared_ptr<PoolJob> job;
    size_t begin, end;  // Task indexes in job.
  };
  struct Worker;

  PoolCore(const PoolOptions& options, size_t size, uint64_t secret);
  // kClosed in a process that inherited the pool through fork(): its
  // workers belong to the parent.
  Status CheckOwner() const;

  Status Spawn();
  void Dispatch();
  bool CanTake(const Worker& worker) const;
  void Send(Worker& worker, Batch batch);
  void Flush(Worker& worker);
  // Waits for the workers until something happens or the deadline passes,
  // and handles it (no sending).
  Status Wait(Deadline deadline);
  // OK while the worker lives; kClosed when it is gone; another code when
  // it sent something that is not a frame of ours.
  Status Read(Worker& worker);
  Status HandleFrame(Worker& worker, std::string_view frame);
  Status HandleResults(Worker& worker, std::string_view frame);
  // Reaps a worker that is gone (or is made to go: it broke the protocol),
  // fails the batch it was running, requeues the rest, replaces it.
  void Bury(Worker& worker, const Status& violation);
  void Finish(const Batch& batch, const Status& status);

  const PoolOptions options_;
  const size_t size_;
  const uint64_t secret_;
  const uint64_t fork_generation_;  // ForkGeneration() of the creator.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<Batch> pending_;  // Not sent yet, in order.
  uint64_t next_batch_ = 1;
  enum class State { kOpen, kClosed, kTerminated } state_ = State::kOpen;
  Status stopped_;  // Why Submit fails, once state_ is not kOpen.
  // Set while handling events; the pool stops with it afterwards.
  Status fatal_;
  int startup_deaths_in_a_row_ = 0;
  // Reused buffers.
  std::string frame_;
  std::vector<std::string> received_;
  std::vector<pollfd> polls_;
};

}  // namespace ipc::internal

#endif  // IPC_SRC_SYNC_POOL_CORE_H_
