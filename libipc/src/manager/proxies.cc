// CounterProxy, LockProxy (and its Guard), QueueProxy, EventProxy,
// SemaphoreProxy, BarrierProxy: each
// method is one Call (see Op in proto/ipcd.proto). DictProxy is in
// dict_proxy.cc.
#include "ipc/manager.h"
#include "manager/proxy_call.h"

namespace ipc {

using internal::IgnoreResult;
using internal::NoArguments;
using internal::ReadCount;
using internal::ReadInt;
using internal::RunCall;
using ipcd::v1::Call;

namespace internal {

Status ReadInt(const ipcd::v1::Result& result, std::string_view what,
               int64_t* out) {
  switch (result.value().kind_case()) {
    case ipcd::v1::Value::kIntValue:
      *out = result.value().int_value();
      return Status::Ok();
    case ipcd::v1::Value::KIND_NOT_SET:
      *out = 0;
      return Status::Ok();
    default:
      return Status(
          ErrorCode::kProtocolError,
          std::string(what) + ": ipcd answered with a non-integer value");
  }
}

}  // namespace internal

// ---------------------------------------------------------------------------
// CounterProxy

Result<int64_t> CounterProxy::Add(int64_t delta) {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::COUNTER, ipcd::v1::ADD,
      [&](Call& call) { call.mutable_value()->set_int_value(delta); },
      [&](const ipcd::v1::Result& r) { return ReadInt(r, name_, &out); }));
  return out;
}

Result<int64_t> CounterProxy::Get() const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::COUNTER, ipcd::v1::GET, NoArguments,
      [&](const ipcd::v1::Result& r) { return ReadInt(r, name_, &out); }));
  return out;
}

Status CounterProxy::Set(int64_t value) {
  return RunCall(
      *connection_, name_, ipcd::v1::COUNTER, ipcd::v1::SET,
      [&](Call& call) { call.mutable_value()->set_int_value(value); },
      IgnoreResult);
}

Result<bool> CounterProxy::CompareAndSet(int64_t expected, int64_t desired) {
  bool out = false;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::COUNTER, ipcd::v1::COMPARE_AND_SET,
      [&](Call& call) {
        call.mutable_expected()->set_int_value(expected);
        call.mutable_value()->set_int_value(desired);
      },
      [&](const ipcd::v1::Result& r) {
        out = r.flag();
        return Status::Ok();
      }));
  return out;
}

// ---------------------------------------------------------------------------
// LockProxy

Status LockProxy::AcquireHold(Deadline deadline, uint64_t* generation) {
  return RunCall(
      *connection_, name_, recursive_ ? ipcd::v1::RLOCK : ipcd::v1::LOCK,
      ipcd::v1::ACQUIRE, NoArguments,
      [&](const ipcd::v1::Result&) {
        // Read under the connection's lock: the connection that got the hold.
        *generation = connection_->generation();
        return Status::Ok();
      },
      &deadline);
}

Status LockProxy::ReleaseHold(uint64_t only_generation) {
  internal::ManagerConnection::ExchangeOptions options;
  options.only_generation = only_generation;
  return connection_->Exchange(
      [&](ipcd::v1::Request& request) {
        Call* call = request.mutable_call();
        call->set_object(name_);
        call->set_kind(recursive_ ? ipcd::v1::RLOCK : ipcd::v1::LOCK);
        call->set_op(ipcd::v1::RELEASE);
      },
      [](const ipcd::v1::Response&) { return Status::Ok(); }, options);
}

Result<LockProxy::Guard> LockProxy::Acquire(Deadline deadline) {
  uint64_t generation = 0;
  IPC_RETURN_IF_ERROR(AcquireHold(deadline, &generation));
  return Guard(*this, generation);
}

Status LockProxy::AcquireRaw(Deadline deadline) {
  uint64_t generation = 0;
  return AcquireHold(deadline, &generation);
}

Status LockProxy::Release() { return ReleaseHold(0); }

LockProxy::Guard::Guard(const LockProxy& lock, uint64_t generation)
    : lock_(std::make_unique<LockProxy>(lock)), generation_(generation) {}

LockProxy::Guard::Guard(Guard&& other) noexcept
    : lock_(std::move(other.lock_)), generation_(other.generation_) {}

LockProxy::Guard& LockProxy::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    (void)Release();
    lock_ = std::move(other.lock_);
    generation_ = other.generation_;
  }
  return *this;
}

LockProxy::Guard::~Guard() { (void)Release(); }

Status LockProxy::Guard::Release() {
  if (!lock_) return Status::Ok();
  std::unique_ptr<LockProxy> lock = std::move(lock_);
  Status status = lock->ReleaseHold(generation_);
  if (status.code() == ErrorCode::kClosed) {
    return Status(ErrorCode::kClosed,
                  "lock '" + lock->name() +
                      "' was no longer held: the connection "
                      "that held it was lost, and ipcd released it then");
  }
  return status;
}

// ---------------------------------------------------------------------------
// QueueProxy

namespace {
ipcd::v1::QueueOrder ToProto(QueueOrder order) {
  switch (order) {
    case QueueOrder::kLifo:
      return ipcd::v1::ORDER_LIFO;
    case QueueOrder::kPriority:
      return ipcd::v1::ORDER_PRIORITY;
    case QueueOrder::kFifo:
      break;
  }
  return ipcd::v1::ORDER_FIFO;
}
}  // namespace

Status QueueProxy::Create(int64_t capacity, QueueOrder order) {
  return RunCall(
      *connection_, name_, ipcd::v1::QUEUE, ipcd::v1::CREATE,
      [&](Call& call) {
        call.set_capacity(capacity);
        call.set_order(ToProto(order));
      },
      IgnoreResult);
}

Status QueueProxy::Put(Value value, Deadline deadline) {
  return RunCall(
      *connection_, name_, ipcd::v1::QUEUE, ipcd::v1::PUT,
      [&](Call& call) { internal::ValueToProto(value, call.mutable_value()); },
      IgnoreResult, &deadline);
}

Status QueueProxy::PutWithPriority(int64_t priority, Value value, Deadline deadline) {
  return RunCall(
      *connection_, name_, ipcd::v1::QUEUE, ipcd::v1::PUT,
      [&](Call& call) {
        call.set_priority(priority);
        internal::ValueToProto(value, call.mutable_value());
      },
      IgnoreResult, &deadline);
}

Result<Value> QueueProxy::Get(Deadline deadline) {
  Value out;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::QUEUE, ipcd::v1::GET, NoArguments,
      [&](const ipcd::v1::Result& r) {
        out = internal::ValueFromProto(r.value());
        return Status::Ok();
      },
      &deadline));
  return out;
}

Result<int64_t> QueueProxy::Size() const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, ipcd::v1::QUEUE, ipcd::v1::LEN,
                              NoArguments, ReadCount(&out)));
  return out;
}

Status QueueProxy::Close() {
  return RunCall(*connection_, name_, ipcd::v1::QUEUE, ipcd::v1::CLOSE,
                 NoArguments, IgnoreResult);
}

Result<int64_t> QueueProxy::TaskDone() {
  int64_t left = 0;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, ipcd::v1::QUEUE, ipcd::v1::TASK_DONE,
                              NoArguments, ReadCount(&left)));
  return left;
}

Status QueueProxy::Join(Deadline deadline) {
  return RunCall(*connection_, name_, ipcd::v1::QUEUE, ipcd::v1::JOIN, NoArguments,
                 IgnoreResult, &deadline);
}

// ---------------------------------------------------------------------------
// SemaphoreProxy

namespace {
ipcd::v1::Kind SemaphoreKind(bool bounded) {
  return bounded ? ipcd::v1::BOUNDED_SEMAPHORE : ipcd::v1::SEMAPHORE;
}
}  // namespace

Status SemaphoreProxy::Create(int64_t initial) {
  return RunCall(
      *connection_, name_, SemaphoreKind(bounded_), ipcd::v1::CREATE,
      [&](Call& call) { call.mutable_value()->set_int_value(initial); }, IgnoreResult);
}

Status SemaphoreProxy::Acquire(Deadline deadline) {
  return RunCall(*connection_, name_, SemaphoreKind(bounded_), ipcd::v1::ACQUIRE,
                 NoArguments, IgnoreResult, &deadline);
}

Status SemaphoreProxy::Release() {
  return RunCall(*connection_, name_, SemaphoreKind(bounded_), ipcd::v1::RELEASE,
                 NoArguments, IgnoreResult);
}

Result<int64_t> SemaphoreProxy::Value() const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, SemaphoreKind(bounded_), ipcd::v1::GET,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                return ReadInt(r, "semaphore GET", &out);
                              }));
  return out;
}

// ---------------------------------------------------------------------------
// BarrierProxy

Status BarrierProxy::Create(int64_t parties) {
  return RunCall(
      *connection_, name_, ipcd::v1::BARRIER, ipcd::v1::CREATE,
      [&](Call& call) { call.set_capacity(parties); }, IgnoreResult);
}

Result<int64_t> BarrierProxy::Wait(Deadline deadline) {
  int64_t index = 0;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, ipcd::v1::BARRIER, ipcd::v1::WAIT,
                              NoArguments,
                              [&](const ipcd::v1::Result& r) {
                                index = r.count();
                                return Status::Ok();
                              },
                              &deadline));
  return index;
}

Status BarrierProxy::Abort() {
  return RunCall(*connection_, name_, ipcd::v1::BARRIER, ipcd::v1::ABORT, NoArguments,
                 IgnoreResult);
}

Status BarrierProxy::Reset() {
  return RunCall(*connection_, name_, ipcd::v1::BARRIER, ipcd::v1::RESET, NoArguments,
                 IgnoreResult);
}

namespace {
// The barrier's GET: its parties, whether broken, and how many wait.
Result<ipcd::v1::Result> BarrierState(internal::ManagerConnection& connection,
                                      const std::string& name) {
  ipcd::v1::Result state;
  IPC_RETURN_IF_ERROR(RunCall(connection, name, ipcd::v1::BARRIER, ipcd::v1::GET, NoArguments,
                              [&](const ipcd::v1::Result& r) {
                                state = r;
                                return Status::Ok();
                              }));
  return state;
}
}  // namespace

Result<bool> BarrierProxy::Broken() const {
  IPC_ASSIGN_OR_RETURN(ipcd::v1::Result state, BarrierState(*connection_, name_));
  return state.flag();
}

Result<int64_t> BarrierProxy::Parties() const {
  IPC_ASSIGN_OR_RETURN(ipcd::v1::Result state, BarrierState(*connection_, name_));
  return state.count();
}

Result<int64_t> BarrierProxy::Waiting() const {
  IPC_ASSIGN_OR_RETURN(ipcd::v1::Result state, BarrierState(*connection_, name_));
  return state.value().int_value();
}

// ---------------------------------------------------------------------------
// EventProxy

Status EventProxy::Set() {
  return RunCall(*connection_, name_, ipcd::v1::EVENT, ipcd::v1::SET,
                 NoArguments, IgnoreResult);
}

Status EventProxy::Clear() {
  return RunCall(*connection_, name_, ipcd::v1::EVENT, ipcd::v1::CLEAR,
                 NoArguments, IgnoreResult);
}

Result<bool> EventProxy::IsSet() const {
  bool out = false;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, ipcd::v1::EVENT,
                              ipcd::v1::IS_SET, NoArguments,
                              [&](const ipcd::v1::Result& r) {
                                out = r.flag();
                                return Status::Ok();
                              }));
  return out;
}

Status EventProxy::Wait(Deadline deadline) {
  return RunCall(*connection_, name_, ipcd::v1::EVENT, ipcd::v1::WAIT,
                 NoArguments, IgnoreResult, &deadline);
}

}  // namespace ipc
