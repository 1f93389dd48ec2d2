// ipc::Pool's public calls; the work is done by PoolCore (pool_core.h).
#include "ipc/pool.h"

#include <utility>

#include "sync/pool_core.h"

namespace ipc {

namespace internal {

Status SubmitPoolJob(PoolCore& core, std::shared_ptr<PoolJob> job,
                     size_t chunksize) {
  return core.Submit(std::move(job), chunksize);
}

Status PumpPool(PoolCore& core, Deadline deadline) {
  return core.Pump(deadline);
}

void CancelPoolJob(PoolCore& core, PoolJob& job) { core.Cancel(job); }

}  // namespace internal

Result<Pool> Pool::Create(const PoolOptions& options) {
  IPC_ASSIGN_OR_RETURN(auto core, internal::PoolCore::Start(options));
  return Pool(std::move(core));
}

Pool::Pool() = default;
Pool::Pool(std::shared_ptr<internal::PoolCore> core) : core_(std::move(core)) {}
Pool::Pool(Pool&&) noexcept = default;

Pool& Pool::operator=(Pool&& other) noexcept {
  if (this != &other) {
    Destroy();
    core_ = std::move(other.core_);
  }
  return *this;
}

Pool::~Pool() { Destroy(); }

// AsyncResults may keep the core alive; its workers go now.
void Pool::Destroy() {
  if (core_)
    core_->Terminate(Status(ErrorCode::kClosed, "ipc::Pool: destroyed"));
}

Status Pool::CheckCreated() const {
  if (core_) return Status::Ok();
  return Status(ErrorCode::kClosed,
                "ipc::Pool: no workers (default-constructed or moved from)");
}

Result<size_t> Pool::ChunksizeFor(std::optional<size_t> chunksize,
                                  size_t tasks) const {
  IPC_RETURN_IF_ERROR(CheckCreated());
  if (chunksize) {
    if (*chunksize == 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "ipc::Pool: chunksize 0; a batch holds at least one task");
    }
    return *chunksize;
  }
  // Python's default for map: four batches per worker.
  const size_t per_batch = 4 * core_->size();
  return std::max<size_t>(1, (tasks + per_batch - 1) / per_batch);
}

Status Pool::Run(const std::shared_ptr<internal::PoolJob>& job,
                 size_t chunksize, Deadline deadline) {
  const internal::CancelUnlessFinished cancel(*core_, *job);
  IPC_RETURN_IF_ERROR(core_->Submit(job, chunksize));
  while (job->unfinished > 0) {
    Status pumped = core_->Pump(deadline);
    if (!pumped.ok() && job->unfinished > 0) return pumped;
  }
  return Status::Ok();
}

Status Pool::Close() {
  IPC_RETURN_IF_ERROR(CheckCreated());
  core_->Close();
  return Status::Ok();
}

Status Pool::Join(Deadline deadline) {
  IPC_RETURN_IF_ERROR(CheckCreated());
  return core_->Join(deadline);
}

void Pool::Terminate() {
  if (core_)
    core_->Terminate(Status(ErrorCode::kClosed, "ipc::Pool: terminated"));
}

size_t Pool::workers() const { return core_ ? core_->size() : 0; }

std::vector<pid_t> Pool::worker_pids() const {
  return core_ ? core_->pids() : std::vector<pid_t>();
}

}  // namespace ipc
