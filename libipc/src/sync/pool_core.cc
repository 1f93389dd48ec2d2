#include "sync/pool_core.h"

#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "posix/fork_generation.h"
#include "sync/pool_process.h"
#include "sync/pool_wire.h"

namespace ipc::internal {
namespace {

using pool_wire::Reader;
using pool_wire::Writer;

// A batch may be large (many protobuf messages); the channel still grows
// its buffer only as bytes arrive, so a bogus length costs nothing.
constexpr size_t kMaxFrameBytes = size_t{1} << 30;
constexpr size_t kMaxWorkers = 4096;
// How far ahead of a worker the parent sends: always this many batches (so
// the next one is there when it finishes one), more while they add up to
// less than kWorkAheadNs of its measured run time and kMaxTasksAhead tasks.
// Deep enough that tiny tasks cost few system calls, shallow enough that a
// Map's tail does not wait long behind a busy worker.
constexpr size_t kMinBatchesAhead = 2;
constexpr double kWorkAheadNs = 2e6;
constexpr size_t kMaxTasksAhead = 1024;
// Replacement workers that die before their initializer finished, in a
// row, before the pool gives up instead of forking forever.
constexpr int kMaxStartupDeathsInARow = 8;
constexpr size_t kFramesPerRead = 256;
// Frames from this size on are sent without first copying them into the
// channel's output buffer.
constexpr size_t kDirectSendBytes = 64 * 1024;

size_t CpuCount() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

uint64_t RandomSecret() {
  uint64_t secret = 0;
  while (getrandom(&secret, sizeof secret, 0) !=
         static_cast<ssize_t>(sizeof secret)) {
  }
  return secret;
}

std::string TaskNames(size_t begin, size_t end) {
  if (end - begin == 1) return "task " + std::to_string(begin);
  return "tasks " + std::to_string(begin) + " to " + std::to_string(end - 1) +
         " (one batch)";
}

Status Malformed(const std::string& what) {
  return Status(ErrorCode::kProtocolError, "sent a malformed frame: " + what);
}

}  // namespace

struct PoolCore::Worker {
  explicit Worker(ForkedWorker forked)
      : pid(forked.pid),
        pidfd(std::move(forked.pidfd)),
        channel(std::move(forked.channel)) {}
  ~Worker() { CloseWorkerChannel(channel); }

  enum class State { kStarting, kReady, kRetiring };
  const pid_t pid;
  const UniqueFd pidfd;
  Channel channel;
  State state = State::kStarting;
  std::deque<Batch> held;  // Sent, not answered; the front one is running.
  size_t held_tasks = 0;
  uint64_t tasks_given = 0;
  double ns_per_task = -1;  // From its last batch; < 0 until measured.
  bool write_blocked = false;
};

PoolCore::PoolCore(const PoolOptions& options, size_t size, uint64_t secret)
    : options_(options),
      size_(size),
      secret_(secret),
      fork_generation_(ForkGeneration()) {}

Status PoolCore::CheckOwner() const {
  if (ForkGeneration() == fork_generation_) return Status::Ok();
  return Status(ErrorCode::kClosed,
                "ipc::Pool: inherited across fork(); only the process that "
                "created it may use it");
}

PoolCore::~PoolCore() {
  Terminate(Status(ErrorCode::kClosed, "ipc::Pool: destroyed"));
}

Result<std::shared_ptr<PoolCore>> PoolCore::Start(const PoolOptions& options) {
  const size_t size = options.workers.value_or(CpuCount());
  if (size == 0 || size > kMaxWorkers) {
    return Status(ErrorCode::kInvalidArgument,
                  "ipc::Pool: workers = " + std::to_string(size) +
                      "; give 1 to " + std::to_string(kMaxWorkers) +
                      " (or leave it unset: one per CPU)");
  }
  const Deadline deadline = options.start_timeout
                                ? Deadline::After(*options.start_timeout)
                                : Deadline::Infinite();
  std::shared_ptr<PoolCore> core(new PoolCore(options, size, RandomSecret()));
  for (size_t i = 0; i < size; ++i) IPC_RETURN_IF_ERROR(core->Spawn());
  const auto starting = [&core] {
    return std::any_of(
        core->workers_.begin(), core->workers_.end(),
        [](const auto& w) { return w->state == Worker::State::kStarting; });
  };
  while (core->state_ == State::kOpen && starting()) {
    // On failure the core's destructor kills and reaps the workers.
    Status pumped = core->Pump(deadline);
    if (!pumped.ok() && starting())
      return pumped.WithContext("ipc::Pool::Create: starting the workers");
  }
  if (core->state_ != State::kOpen) return core->stopped_;
  return core;
}

Status PoolCore::Spawn() {
  IPC_ASSIGN_OR_RETURN(
      ForkedWorker forked,
      ForkPoolWorker(options_.initializer, secret_, kMaxFrameBytes));
  workers_.push_back(std::make_unique<Worker>(std::move(forked)));
  return Status::Ok();
}

Status PoolCore::Submit(std::shared_ptr<PoolJob> job, size_t chunksize) {
  IPC_RETURN_IF_ERROR(CheckOwner());
  if (state_ != State::kOpen) return stopped_;
  for (size_t begin = 0; begin < job->size; begin += chunksize) {
    pending_.push_back(
        {next_batch_++, job, begin, std::min(job->size, begin + chunksize)});
  }
  // A worker that died since the last call is buried first, so that no
  // batch goes to it (it would fail as if the worker had died running it).
  (void)Wait(Deadline::Now());
  Dispatch();
  return Status::Ok();
}

bool PoolCore::CanTake(const Worker& worker) const {
  if (worker.state != Worker::State::kReady || worker.write_blocked)
    return false;
  if (options_.max_tasks_per_child > 0 &&
      worker.tasks_given >= options_.max_tasks_per_child) {
    return false;
  }
  if (worker.held.size() < kMinBatchesAhead) return true;
  return worker.ns_per_task >= 0 && worker.held_tasks < kMaxTasksAhead &&
         static_cast<double>(worker.held_tasks) * worker.ns_per_task <
             kWorkAheadNs;
}

void PoolCore::Dispatch() {
  for (auto& w : workers_) {
    bool sent = false;
    while (!pending_.empty() && CanTake(*w)) {
      const bool idle = w->held.empty();
      Batch batch = std::move(pending_.front());
      pending_.pop_front();
      Send(*w, std::move(batch));
      sent = true;
      // An idle worker starts at once rather than after the batches that
      // follow are encoded; the rest go out together.
      if (idle) Flush(*w);
    }
    // A worker with nothing to do leaves once the pool is closed, or when
    // it has had its max_tasks_per_child (a new one takes its place).
    const bool used_up = options_.max_tasks_per_child > 0 &&
                         w->tasks_given >= options_.max_tasks_per_child;
    if (w->state == Worker::State::kReady && w->held.empty() &&
        (used_up || (state_ == State::kClosed && pending_.empty()))) {
      frame_.clear();
      Writer(&frame_).Kind(pool_wire::Kind::kExit);
      (void)w->channel.SendBuffered(frame_);
      w->state = Worker::State::kRetiring;
      sent = true;
    }
    if (sent) Flush(*w);
  }
}

void PoolCore::Send(Worker& worker, Batch batch) {
  PoolJob& job = *batch.job;
  const auto count = static_cast<uint32_t>(batch.end - batch.begin);
  frame_.clear();
  Writer writer(&frame_);
  writer.Tasks({.batch = batch.id,
                .function = job.function,
                .tag = pool_wire::FunctionTag(secret_, job.function),
                .count = count});
  job.EncodeInputs(batch.begin, batch.end, &frame_);
  // A large frame is written straight from frame_ (the channel keeps only
  // what the socket did not take); small ones are buffered, to go out
  // together at the next Flush. Either way it counts as held: a worker
  // found gone later fails or requeues it with the rest.
  Status sent = frame_.size() >= kDirectSendBytes
                    ? worker.channel.Send(frame_, Deadline::Now())
                    : Status(ErrorCode::kWouldBlock, "");
  if (sent.code() == ErrorCode::kWouldBlock)
    sent = worker.channel.SendBuffered(frame_);
  if (sent.code() == ErrorCode::kMessageTooLarge) {  // These tasks cannot run.
    Finish(batch, sent.WithContext("ipc::Pool: sending " +
                                   TaskNames(batch.begin, batch.end)));
    return;
  }
  worker.held_tasks += count;
  worker.tasks_given += count;
  worker.held.push_back(std::move(batch));
}

void PoolCore::Flush(Worker& worker) {
  // Never blocks: a worker may be blocked sending us results, and we must
  // go on reading them. The rest goes when the socket is writable again.
  // Other errors mean the worker is gone, which reading will show.
  worker.write_blocked =
      worker.channel.Flush(Deadline::Now()).code() == ErrorCode::kWouldBlock;
}

Status PoolCore::Pump(Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckOwner());
  Dispatch();
  Status waited = Wait(deadline);
  Dispatch();
  return waited;
}

Status PoolCore::Wait(Deadline deadline) {
  if (workers_.empty()) return Status::Ok();
  polls_.clear();
  // Per worker: its socket, then its pidfd.
  for (const auto& w : workers_) {
    polls_.push_back(
        {w->channel.fd(),
         static_cast<short>(POLLIN | (w->write_blocked ? POLLOUT : 0)), 0});
    polls_.push_back({w->pidfd.get(), POLLIN, 0});
  }
  const int ready =
      ::poll(polls_.data(), polls_.size(), deadline.PollTimeoutMs());
  if (ready == 0)
    return deadline.ExpiredStatus("ipc::Pool: waiting for results");
  if (ready < 0) {
    // EINTR: the caller's loop comes back with the same deadline.
    return errno == EINTR ? Status::Ok()
                          : ErrnoStatus("ipc::Pool: poll", errno);
  }
  std::vector<std::pair<Worker*, Status>> gone;
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = *workers_[i];
    const short socket = polls_[2 * i].revents;
    const bool exited = polls_[2 * i + 1].revents != 0;
    if (socket & POLLOUT) Flush(w);
    if (!exited && !(socket & (POLLIN | POLLHUP | POLLERR))) continue;
    // A worker that exited wrote all it ever will: its socket holds its
    // last results, which count before its death does. The socket may
    // stay open after that (a process it forked holds it).
    Status read = Read(w);
    if (read.ok() && exited) read = Status(ErrorCode::kClosed, "exited");
    if (!read.ok()) gone.emplace_back(&w, std::move(read));
  }
  for (auto& [worker, why] : gone) {
    Bury(*worker, why.code() == ErrorCode::kClosed ? Status::Ok() : why);
  }
  if (!fatal_.ok()) Terminate(std::exchange(fatal_, Status::Ok()));
  // While results keep coming, poll never times out: the deadline is
  // checked here as well.
  if (deadline.Expired())
    return deadline.ExpiredStatus("ipc::Pool: waiting for results");
  return Status::Ok();
}

Status PoolCore::Read(Worker& worker) {
  for (;;) {
    received_.clear();
    Status status = worker.channel.ReceiveAvailable(&received_, kFramesPerRead);
    for (const std::string& frame : received_)
      IPC_RETURN_IF_ERROR(HandleFrame(worker, frame));
    if (status.code() == ErrorCode::kWouldBlock) return Status::Ok();
    if (status.code() == ErrorCode::kClosed) return status;
    if (!status.ok()) return Malformed(status.message());
  }
}

Status PoolCore::HandleFrame(Worker& worker, std::string_view frame) {
  Reader reader(frame);
  pool_wire::Kind kind;
  if (!reader.Kind(&kind)) return Malformed("unknown kind");
  switch (kind) {
    case pool_wire::Kind::kReady:
      if (worker.state != Worker::State::kStarting || !reader.AtEnd()) {
        return Malformed("unexpected Ready");
      }
      worker.state = Worker::State::kReady;
      startup_deaths_in_a_row_ = 0;
      return Status::Ok();
    case pool_wire::Kind::kInitFailed: {
      Status failure;
      if (!reader.Status(&failure) || !reader.AtEnd())
        return Malformed("bad InitFailed");
      fatal_ = failure.WithContext("pool worker " + std::to_string(worker.pid) +
                                   ": the initializer failed");
      return Status::Ok();
    }
    case pool_wire::Kind::kResults:
      return HandleResults(worker, frame);
    default:
      return Malformed("a parent's frame kind");
  }
}

Status PoolCore::HandleResults(Worker& worker, std::string_view frame) {
  Reader reader(frame);
  pool_wire::Kind kind;
  pool_wire::ResultsHeader header;
  if (!reader.Kind(&kind) || !reader.Results(&header) || worker.held.empty() ||
      header.batch != worker.held.front().id ||
      header.count != worker.held.front().end - worker.held.front().begin) {
    return Malformed("Results for a batch it was not running");
  }
  // Outcomes are handed on as they are read; the batch's begin moves past
  // each, so that if the frame turns out bad, only the tasks not yet
  // handed on fail with the worker.
  Batch& batch = worker.held.front();
  PoolJob& job = *batch.job;
  uint8_t layout = 0;
  if (!reader.U8(&layout)) return Malformed("no outcome layout");
  if (layout == static_cast<uint8_t>(ItemLayout::kPacked)) {
    uint32_t item_size = 0;
    std::string_view outputs;
    if (!reader.U32(&item_size) ||
        !reader.View(uint64_t{item_size} * header.count, &outputs) ||
        (!job.cancelled &&
         !job.DeliverPacked(batch.begin, header.count, item_size, outputs))) {
      return Malformed("bad packed outputs");
    }
    job.unfinished -= header.count;
    worker.held_tasks -= header.count;
    batch.begin = batch.end;
  } else if (layout != static_cast<uint8_t>(ItemLayout::kEach)) {
    return Malformed("unknown outcome layout");
  }
  for (; batch.begin < batch.end; ++batch.begin) {
    std::string_view output;
    Status error;
    if (!reader.Outcome(&output, &error)) {
      return Malformed("bad outcome of task " + std::to_string(batch.begin));
    }
    --job.unfinished;
    --worker.held_tasks;
    if (job.cancelled) continue;
    if (error.ok()) {
      job.Deliver(batch.begin, output);
    } else {
      job.Fail(batch.begin, std::move(error));
    }
  }
  uint64_t run_ns = 0;
  if (!reader.U64(&run_ns) || !reader.AtEnd())
    return Malformed("bad Results trailer");
  worker.ns_per_task =
      static_cast<double>(run_ns) / std::max<uint32_t>(header.count, 1);
  worker.held.pop_front();
  return Status::Ok();
}

void PoolCore::Finish(const Batch& batch, const Status& status) {
  PoolJob& job = *batch.job;
  job.unfinished -= batch.end - batch.begin;
  if (job.cancelled) return;
  for (size_t index = batch.begin; index < batch.end; ++index)
    job.Fail(index, status);
}

void PoolCore::Bury(Worker& worker, const Status& violation) {
  std::string end = KillAndReap(worker.pid, worker.pidfd.get());
  if (!violation.ok()) {
    end = "pool worker " + std::to_string(worker.pid) + " " +
          violation.message() + " and was killed";
  }
  if (!worker.held.empty()) {
    const Batch& running = worker.held.front();
    Finish(running, Status(ErrorCode::kClosed,
                           end + " while running " +
                               TaskNames(running.begin, running.end)));
    // The others were never started (a worker answers each batch before it
    // starts the next): someone else runs them, in their order.
    for (auto it = worker.held.rbegin(); it + 1 != worker.held.rend(); ++it) {
      if (it->job->cancelled) {
        it->job->unfinished -= it->end - it->begin;
      } else {
        pending_.push_front(std::move(*it));
      }
    }
  }
  if (worker.state == Worker::State::kStarting) ++startup_deaths_in_a_row_;
  workers_.erase(
      std::find_if(workers_.begin(), workers_.end(),
                   [&](const auto& w) { return w.get() == &worker; }));
  if (state_ == State::kTerminated ||
      (state_ == State::kClosed && pending_.empty()))
    return;
  if (startup_deaths_in_a_row_ > kMaxStartupDeathsInARow) {
    fatal_ = Status(ErrorCode::kInternal,
                    "ipc::Pool: " + std::to_string(startup_deaths_in_a_row_) +
                        " workers in a row died before their initializer "
                        "finished; the last: " +
                        end);
    return;
  }
  Status spawned = Spawn();
  if (!spawned.ok())
    fatal_ = spawned.WithContext("ipc::Pool: replacing " + end);
}

void PoolCore::Cancel(PoolJob& job) {
  job.cancelled = true;
  std::erase_if(pending_, [&](const Batch& b) {
    if (b.job.get() != &job) return false;
    job.unfinished -= b.end - b.begin;
    return true;
  });
}

void PoolCore::Close() {
  if (state_ != State::kOpen || !CheckOwner().ok()) return;
  state_ = State::kClosed;
  stopped_ =
      Status(ErrorCode::kClosed, "ipc::Pool: closed; it takes no more tasks");
  Dispatch();
}

Status PoolCore::Join(Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckOwner());
  if (state_ == State::kOpen) {
    return Status(
        ErrorCode::kInvalidArgument,
        "ipc::Pool::Join: the pool is open; call Close() or Terminate() first");
  }
  while (!workers_.empty()) {
    Status pumped = Pump(deadline);
    if (!pumped.ok() && !workers_.empty()) return pumped;
  }
  return Status::Ok();
}

void PoolCore::Terminate(const Status& reason) {
  if (state_ == State::kTerminated) return;
  state_ = State::kTerminated;
  stopped_ = reason;
  if (!CheckOwner().ok()) {
    // A copy in a forked child (its channels are /dev/null there): the
    // workers are its parent's, not ours to kill or reap.
    workers_.clear();
    pending_.clear();
    return;
  }
  for (const auto& w : workers_)  // All die at once.
    KillWorker(w->pidfd.get());
  const Status unfinished(reason.code(),
                          reason.message() + " before the task finished");
  for (const auto& w : workers_) {
    (void)KillAndReap(w->pid, w->pidfd.get());
    for (const Batch& batch : w->held) Finish(batch, unfinished);
  }
  workers_.clear();
  for (const Batch& batch : pending_) Finish(batch, unfinished);
  pending_.clear();
}

std::vector<pid_t> PoolCore::pids() const {
  std::vector<pid_t> pids;
  for (const auto& w : workers_) pids.push_back(w->pid);
  return pids;
}

}  // namespace ipc::internal
