// ipc::Pool: a pool of forked worker processes that run plain functions,
// like Python's multiprocessing.Pool or ProcessPoolExecutor.
//
//   int64_t Square(const int64_t& x) { return x * x; }
//
//   auto pool = ipc::Pool::Create({.workers = 4}).value();
//   std::vector<int64_t> xs = {1, 2, 3, 4, 5};
//   // In input order: [1, 4, 9, 16, 25].
//   ipc::Result<std::vector<int64_t>> squares = pool.Map(Square, xs);
//   ipc::AsyncResult<int64_t> r = pool.ApplyAsync(Square, int64_t{7});
//   int64_t v = r.Get(std::chrono::seconds(1)).value();
//   (void)pool.Close();  // no more tasks
//   (void)pool.Join();   // the workers finish and exit
//
// Tasks: a function pointer (a captureless lambda converts) Out f(const In&)
// or Out f(In), where In and Out are each a protobuf message, a std::string
// or a trivially copyable value (int, double, an enum, a POD struct: copied
// as its bytes, so a struct must not hold pointers, which would point
// nowhere in the other process; std::string_view and std::span do not
// compile). Out may be ipc::Result<T>: an error status it returns is that
// task's error. The function travels to the workers as its address, which
// is valid there because every worker is a fork() of this process: a
// function in a library dlopen()ed after the pool's workers were forked is
// not in them (calling one crashes the worker, which the pool reports as a
// death), and neither is state the parent changed after the fork.
//
// Semantics:
//  - Create forks `workers` processes (default: one per CPU this process
//    may use) and runs `initializer` once in each before it takes a task.
//    An initializer that fails (error status, exception) fails Create, or
//    breaks the pool when it fails in a replacement worker. With
//    `start_timeout`, Create gives kDeadlineExceeded when the initializers
//    have not all finished in time (the workers are killed and reaped).
//  - Each worker has a private socketpair to the parent. Tasks go out in
//    batches of `chunksize` per message; a worker answers each batch with
//    one message before it starts the next, so the parent always knows
//    which batch a worker is running. Frames are checked field by field: a
//    garbage frame is an error for the worker that sent it, never a crash.
//  - A task that throws (std::exception: its what(); anything else:
//    "unknown exception") or returns an error status fails alone; its
//    worker carries on.
//  - A worker that dies (killed, abort(), _exit() in a task) fails exactly
//    the tasks of the batch it was running, with kClosed and a message that
//    names its pid and signal or exit status ("pool worker 1234 was killed
//    by signal 9 (SIGKILL) while running task 17", the task's index in its
//    call); batches queued to it but not started go to other workers. A new
//    worker replaces it. A worker whose own loop fails (out of memory
//    outside a task) exits with status 71.
//  - Map's result is in input order; if tasks failed it is the error of the
//    lowest failed input, its message prefixed "Map input N: ". For every
//    item's outcome, use ImapUnordered, which calls on_result(index, result)
//    as results come in.
//  - Close() refuses further tasks (kClosed); tasks already given still run.
//    Join() then waits for them and for the workers to exit. Terminate()
//    kills the workers at once: every unfinished task fails with kClosed
//    ("ipc::Pool: terminated before the task finished"). The destructor
//    terminates a pool that was not joined; no worker outlives it, none is
//    left a zombie.
//  - Every wait has a deadline: Map, ImapUnordered, Join and AsyncResult::Get
//    give kDeadlineExceeded when it passes (kWouldBlock for Deadline::Now()),
//    even while results keep arriving. Map and ImapUnordered then drop their
//    tasks that have not finished (a worker may still be running one), and
//    ImapUnordered calls on_result no more; an AsyncResult can be waited on
//    again. Create waits as long as PoolOptions::start_timeout allows. A
//    worker's death is seen at once (through a pidfd, even when a process
//    it forked keeps its socket open), so no wait hangs on a dead worker.
//  - Nothing runs in the background: results are collected while a thread
//    is inside a Pool call or an AsyncResult's Get or Ready. Workers keep
//    running the batches they were given in the meantime. The pool starts
//    no thread; replacement workers are forked from the calling thread.
//    That is safe because the child only runs the worker loop and the task
//    functions; as with any fork() of a multi-threaded program, a task must
//    not need a lock that another thread of the parent held at the fork.
//  - A pool belongs to the process that created it. In a child forked
//    later, its calls fail with kClosed, and destroying the copy there
//    leaves the parent's workers alone.
//
// Cost: a batch is one message each way through a socketpair; with
// chunksize 1, about one system call per task in the worker. A batch of
// fixed-size values goes packed (one copy each way, no work per task), so
// large batches of small values cost some 10 ns a task
// (docs/benchmarks.md, "Process pool"). Workers are
// sent a little ahead of what they run (at least two batches, and up to
// about 2 ms of work), so the tail of a Map can wait for a busy worker by
// that much.
//
// Thread safety: a Pool and its AsyncResults are driven by one thread at a
// time: calls on one pool (including Get and Ready on its AsyncResults)
// must not overlap. Different pools are independent.
#ifndef IPC_POOL_H_
#define IPC_POOL_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/deadline.h"
#include "ipc/pool_task.h"
#include "ipc/result.h"

namespace ipc {

struct PoolOptions {
  // Worker processes; unset: one per CPU this process may run on. 0 is
  // kInvalidArgument.
  std::optional<size_t> workers;
  // Runs once in each worker after it is forked, before its first task.
  std::function<Status()> initializer;
  // A worker that was given this many tasks exits and is replaced (Python's
  // maxtasksperchild); 0: never.
  size_t max_tasks_per_child = 0;
  // How long Create waits for the workers to fork and run the initializer;
  // unset: no limit. Replacement workers have none: until one is ready,
  // the others run its share.
  std::optional<std::chrono::milliseconds> start_timeout;
};

namespace internal {

// The outcome of one task, for AsyncResult; the input lives in ApplyJob.
template <typename T>
class ResultSlot : public PoolJob {
 public:
  using PoolJob::PoolJob;
  void Deliver(size_t, std::string_view output) override {
    result_.emplace(DecodeTaskOutput<T>(output));
  }
  void Fail(size_t, Status status) override {
    result_.emplace(std::move(status));
  }
  const std::optional<Result<T>>& result() const { return result_; }

 private:
  std::optional<Result<T>> result_;
};

}  // namespace internal

template <typename T>
class AsyncResult;

class Pool {
 public:
  static Result<Pool> Create(const PoolOptions& options = {});

  // A pool with no workers; every call gives kClosed.
  Pool();
  ~Pool();
  Pool(Pool&&) noexcept;
  Pool& operator=(Pool&&) noexcept;

  // fn over every input, results in input order (multiprocessing's map).
  // chunksize: tasks per message; unset: ceil(inputs / (4 * workers)), as
  // Python's default. 0 is kInvalidArgument.
  template <internal::PoolTask F>
  Result<std::vector<internal::TaskOutput<F>>> Map(
      F fn, std::span<const internal::TaskInput<F>> inputs,
      std::optional<size_t> chunksize = std::nullopt,
      Deadline deadline = Deadline::Infinite());

  // fn over every input; calls on_result(size_t index, Result<Out> result)
  // once per input as results arrive, in no particular order
  // (imap_unordered). on_result runs in this thread, between the pool's
  // own steps, and may call the pool. The returned Status is about the call
  // itself (bad chunksize, closed pool, deadline); tasks' errors go to
  // on_result. Once the deadline has passed on_result is not called again,
  // even for outcomes already received. An exception from on_result leaves
  // through this call; the rest of the job is dropped.
  template <internal::PoolTask F, typename OnResult>
  Status ImapUnordered(F fn, std::span<const internal::TaskInput<F>> inputs,
                       OnResult on_result, size_t chunksize = 1,
                       Deadline deadline = Deadline::Infinite());

  // Runs one task and waits for it (apply).
  template <internal::PoolTask F>
  Result<internal::TaskOutput<F>> Apply(
      F fn, const internal::TaskInput<F>& input,
      Deadline deadline = Deadline::Infinite());

  // Queues one task (apply_async). An error (closed pool) is reported by
  // the AsyncResult's Get.
  template <internal::PoolTask F>
  AsyncResult<internal::TaskOutput<F>> ApplyAsync(F fn,
                                                  internal::TaskInput<F> input);

  // No more tasks; safe to call twice.
  Status Close();
  // After Close: waits until every task given has finished and the workers
  // have exited. After Terminate: OK at once. Before either:
  // kInvalidArgument.
  Status Join(Deadline deadline = Deadline::Infinite());
  // Kills the workers now; unfinished tasks fail with kClosed. Safe to call
  // twice.
  void Terminate();

  // The configured number of workers.
  size_t workers() const;
  // The pids of the workers alive now (they change as workers are replaced).
  std::vector<pid_t> worker_pids() const;

 private:
  explicit Pool(std::shared_ptr<internal::PoolCore> core);
  // Terminates the workers, for the destructor and move assignment.
  void Destroy();
  // kClosed for a pool that was never created or was moved from.
  Status CheckCreated() const;
  Result<size_t> ChunksizeFor(std::optional<size_t> chunksize,
                              size_t tasks) const;
  // Submits the job and waits until all its tasks are done; on a deadline
  // (or an exception), cancels it.
  Status Run(const std::shared_ptr<internal::PoolJob>& job, size_t chunksize,
             Deadline deadline);

  std::shared_ptr<internal::PoolCore> core_;
};

// The outcome of ApplyAsync, to be collected with Get. Copies share it.
template <typename T>
class AsyncResult {
 public:
  AsyncResult() = default;

  // Waits for the task's outcome; may be called again and returns the same.
  // kDeadlineExceeded when the deadline passes first (kWouldBlock for
  // Deadline::Now()); the task keeps running and Get can be called again.
  Result<T> Get(Deadline deadline = Deadline::Infinite());
  // True when Get would return without waiting.
  bool Ready();

 private:
  friend class Pool;
  AsyncResult(std::shared_ptr<internal::PoolCore> core,
              std::shared_ptr<internal::ResultSlot<T>> slot)
      : core_(std::move(core)), slot_(std::move(slot)) {}

  std::shared_ptr<internal::PoolCore> core_;
  std::shared_ptr<internal::ResultSlot<T>> slot_;
};

// Implementation details.

namespace internal {

template <typename In, typename Out>
class ApplyJob final : public ResultSlot<Out> {
 public:
  ApplyJob(TaskFunction task_function, In input)
      : ResultSlot<Out>(task_function, 1), input_(std::move(input)) {}
  void EncodeInputs(size_t, size_t, std::string* out) const override {
    AppendInputs(std::span<const In>(&input_, 1), out);
  }

 private:
  In input_;
};

// Map: outputs by index, and the lowest failed index.
template <typename In, typename Out>
class MapJob final : public PoolJob {
 public:
  MapJob(TaskFunction task_function, std::span<const In> inputs)
      : PoolJob(task_function, inputs.size()),
        inputs_(inputs),
        outputs_(inputs.size()) {}
  void EncodeInputs(size_t begin, size_t end, std::string* out) const override {
    AppendInputs(inputs_.subspan(begin, end - begin), out);
  }
  void Deliver(size_t index, std::string_view output) override {
    Out value{};
    if (!DecodeTaskValue(output, &value)) {
      return Fail(index, DecodeTaskOutput<Out>(output).status());
    }
    outputs_[index] = std::move(value);
  }
  bool DeliverPacked(size_t begin, size_t count, size_t item_size,
                     std::string_view outputs) override {
    if constexpr (FixedSizeTaskValue<Out> && !std::is_same_v<Out, bool>) {
      if (item_size != sizeof(Out)) return false;
      std::memcpy(static_cast<void*>(outputs_.data() + begin), outputs.data(),
                  count * sizeof(Out));
      return true;
    } else {
      return PoolJob::DeliverPacked(begin, count, item_size, outputs);
    }
  }
  void Fail(size_t index, Status status) override {
    if (index < failed_index_) {
      failed_index_ = index;
      failure_ = std::move(status);
    }
  }
  Result<std::vector<Out>> Take() {
    if (failed_index_ < size) {
      return failure_.WithContext("Map input " + std::to_string(failed_index_));
    }
    return std::move(outputs_);
  }

 private:
  std::span<const In> inputs_;
  std::vector<Out> outputs_;
  size_t failed_index_ = SIZE_MAX;
  Status failure_;
};

// ImapUnordered: outcomes wait here until the caller's loop hands them on,
// so on_result never runs inside the pool's own bookkeeping.
template <typename In, typename Out>
class UnorderedJob final : public PoolJob {
 public:
  UnorderedJob(TaskFunction task_function, std::span<const In> inputs)
      : PoolJob(task_function, inputs.size()), inputs_(inputs) {}
  void EncodeInputs(size_t begin, size_t end, std::string* out) const override {
    AppendInputs(inputs_.subspan(begin, end - begin), out);
  }
  void Deliver(size_t index, std::string_view output) override {
    ready_.emplace_back(index, DecodeTaskOutput<Out>(output));
  }
  void Fail(size_t index, Status status) override {
    ready_.emplace_back(index, Result<Out>(std::move(status)));
  }
  std::vector<std::pair<size_t, Result<Out>>> TakeReady() {
    return std::exchange(ready_, {});
  }

 private:
  std::span<const In> inputs_;
  std::vector<std::pair<size_t, Result<Out>>> ready_;
};

}  // namespace internal

template <internal::PoolTask F>
Result<std::vector<internal::TaskOutput<F>>> Pool::Map(
    F fn, std::span<const internal::TaskInput<F>> inputs,
    std::optional<size_t> chunksize, Deadline deadline) {
  using Job = internal::MapJob<internal::TaskInput<F>, internal::TaskOutput<F>>;
  IPC_ASSIGN_OR_RETURN(const size_t chunk,
                       ChunksizeFor(chunksize, inputs.size()));
  auto job = std::make_shared<Job>(internal::MakeTaskFunction(fn), inputs);
  IPC_RETURN_IF_ERROR(Run(job, chunk, deadline));
  return job->Take();
}

template <internal::PoolTask F, typename OnResult>
Status Pool::ImapUnordered(F fn, std::span<const internal::TaskInput<F>> inputs,
                           OnResult on_result, size_t chunksize,
                           Deadline deadline) {
  using Job =
      internal::UnorderedJob<internal::TaskInput<F>, internal::TaskOutput<F>>;
  IPC_ASSIGN_OR_RETURN(const size_t chunk,
                       ChunksizeFor(chunksize, inputs.size()));
  auto job = std::make_shared<Job>(internal::MakeTaskFunction(fn), inputs);
  const internal::CancelUnlessFinished cancel(*core_, *job);
  IPC_RETURN_IF_ERROR(internal::SubmitPoolJob(*core_, job, chunk));
  for (;;) {
    for (auto& [index, result] : job->TakeReady()) {
      // A slow on_result must not stretch the call past its deadline.
      if (deadline.Expired())
        return deadline.ExpiredStatus("ipc::Pool::ImapUnordered");
      on_result(index, std::move(result));
    }
    if (job->unfinished == 0) return Status::Ok();
    Status pumped = internal::PumpPool(*core_, deadline);
    if (!pumped.ok() && job->unfinished > 0) return pumped;
  }
}

template <internal::PoolTask F>
Result<internal::TaskOutput<F>> Pool::Apply(F fn,
                                            const internal::TaskInput<F>& input,
                                            Deadline deadline) {
  return ApplyAsync(fn, input).Get(deadline);
}

template <internal::PoolTask F>
AsyncResult<internal::TaskOutput<F>> Pool::ApplyAsync(
    F fn, internal::TaskInput<F> input) {
  using Out = internal::TaskOutput<F>;
  auto job = std::make_shared<internal::ApplyJob<internal::TaskInput<F>, Out>>(
      internal::MakeTaskFunction(fn), std::move(input));
  Status submitted = CheckCreated();
  if (submitted.ok()) submitted = internal::SubmitPoolJob(*core_, job, 1);
  if (!submitted.ok()) job->Fail(0, std::move(submitted));
  return AsyncResult<Out>(core_, std::move(job));
}

template <typename T>
Result<T> AsyncResult<T>::Get(Deadline deadline) {
  if (!slot_) {
    return Status(
        ErrorCode::kInvalidArgument,
        "AsyncResult::Get: empty (default-constructed or moved from)");
  }
  while (!slot_->result()) {
    Status pumped = internal::PumpPool(*core_, deadline);
    if (!pumped.ok() && !slot_->result()) return pumped;
  }
  return *slot_->result();
}

template <typename T>
bool AsyncResult<T>::Ready() {
  if (!slot_) return false;
  if (!slot_->result()) (void)internal::PumpPool(*core_, Deadline::Now());
  return slot_->result().has_value();
}

}  // namespace ipc

#endif  // IPC_POOL_H_
