// ConditionProxy: Create, Wait and the Notifys are one Call each (see the
// condition operations in proto/ipcd.proto); WaitFor loops over Wait.
#include "ipc/manager.h"
#include "manager/proxy_call.h"

namespace ipc {

using internal::IgnoreResult;
using internal::RunCall;
using ipcd::v1::Call;

ConditionProxy Manager::Condition(std::string name,
                                  const LockProxy& lock) const {
  return ConditionProxy(connection_, std::move(name), lock);
}

ConditionProxy Manager::Condition(std::string name,
                                  std::string lock_name) const {
  return ConditionProxy(connection_, std::move(name),
                        Lock(std::move(lock_name)));
}

Status ConditionProxy::Create() {
  return RunCall(
      *connection_, name_, ipcd::v1::CONDITION, ipcd::v1::CREATE,
      [&](Call& call) { call.set_lock(lock_.name()); }, IgnoreResult);
}

Status ConditionProxy::Wait(Deadline deadline) {
  // The answer comes only once the lock is held again, which the deadline
  // does not bound: wait for it as long as it takes (as a lock's Acquire
  // without a deadline does).
  internal::ManagerConnection::ExchangeOptions options;
  options.reply_deadline = Deadline::Infinite();
  return connection_->Exchange(
      [&](ipcd::v1::Request& request) {
        Call* call = request.mutable_call();
        call->set_object(name_);
        call->set_kind(ipcd::v1::CONDITION);
        call->set_op(ipcd::v1::WAIT);
        call->set_lock(lock_.name());
        internal::SetTimeout(deadline, call);
      },
      [](const ipcd::v1::Response&) { return Status::Ok(); }, options);
}

Status ConditionProxy::WaitFor(const Predicate& predicate, Deadline deadline) {
  for (;;) {
    IPC_ASSIGN_OR_RETURN(bool reached, predicate());
    if (reached) return Status::Ok();
    if (deadline.Expired()) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "condition '" + name_ +
                        "': the predicate was still false at the deadline");
    }
    Status waited = Wait(deadline);
    // Timed out: the predicate is asked once more, as Python does.
    if (!waited.ok() && waited.code() != ErrorCode::kDeadlineExceeded)
      return waited;
  }
}

namespace {
// The condition's GET: its lock's name and how many wait.
Result<ipcd::v1::Result> ConditionState(internal::ManagerConnection& connection,
                                        const std::string& name) {
  ipcd::v1::Result state;
  IPC_RETURN_IF_ERROR(RunCall(connection, name, ipcd::v1::CONDITION,
                              ipcd::v1::GET, internal::NoArguments,
                              [&](const ipcd::v1::Result& r) {
                                state = r;
                                return Status::Ok();
                              }));
  return state;
}
}  // namespace

Result<std::string> ConditionProxy::BoundLock() const {
  IPC_ASSIGN_OR_RETURN(ipcd::v1::Result state,
                       ConditionState(*connection_, name_));
  return state.value().string_value();
}

Result<int64_t> ConditionProxy::Waiting() const {
  IPC_ASSIGN_OR_RETURN(ipcd::v1::Result state,
                       ConditionState(*connection_, name_));
  return state.count();
}

Result<int64_t> ConditionProxy::RunNotify(bool all, int64_t n) {
  int64_t woken = 0;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::CONDITION,
      all ? ipcd::v1::NOTIFY_ALL : ipcd::v1::NOTIFY,
      [&](Call& call) {
        call.set_lock(lock_.name());
        if (!all) call.set_count(n);
      },
      internal::ReadCount(&woken)));
  return woken;
}

Result<int64_t> ConditionProxy::Notify(int64_t n) {
  return RunNotify(/*all=*/false, n);
}

Result<int64_t> ConditionProxy::NotifyAll() {
  return RunNotify(/*all=*/true, 0);
}

}  // namespace ipc
