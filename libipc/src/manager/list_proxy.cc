// ListProxy: each method is one Call on a list (see the list operations of
// Op in proto/ipcd.proto).
#include "ipc/manager.h"
#include "manager/proxy_call.h"

namespace ipc {

using internal::IgnoreResult;
using internal::NoArguments;
using internal::ReadCount;
using internal::ReadValue;
using internal::RunCall;
using ipcd::v1::Call;

constexpr ipcd::v1::Kind kList = ipcd::v1::LIST;

Status ListProxy::Append(Value value) {
  return RunCall(
      *connection_, name_, kList, ipcd::v1::APPEND,
      [&](Call& call) { internal::ValueToProto(value, call.mutable_value()); }, IgnoreResult);
}

Status ListProxy::Extend(Value::List items) {
  const Value list(std::move(items));
  return RunCall(
      *connection_, name_, kList, ipcd::v1::EXTEND,
      [&](Call& call) { internal::ValueToProto(list, call.mutable_value()); }, IgnoreResult);
}

Result<Value> ListProxy::Get(int64_t index) const {
  Value out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kList, ipcd::v1::GET,
                              [&](Call& call) { call.set_index(index); }, ReadValue(&out)));
  return out;
}

Status ListProxy::Set(int64_t index, Value value) {
  return RunCall(
      *connection_, name_, kList, ipcd::v1::SET,
      [&](Call& call) {
        call.set_index(index);
        internal::ValueToProto(value, call.mutable_value());
      },
      IgnoreResult);
}

Status ListProxy::Insert(int64_t index, Value value) {
  return RunCall(
      *connection_, name_, kList, ipcd::v1::INSERT,
      [&](Call& call) {
        call.set_index(index);
        internal::ValueToProto(value, call.mutable_value());
      },
      IgnoreResult);
}

Result<Value> ListProxy::Pop(int64_t index) {
  Value out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kList, ipcd::v1::POP,
                              [&](Call& call) { call.set_index(index); }, ReadValue(&out)));
  return out;
}

Status ListProxy::Remove(const Value& value) {
  return RunCall(
      *connection_, name_, kList, ipcd::v1::REMOVE,
      [&](Call& call) { internal::ValueToProto(value, call.mutable_value()); }, IgnoreResult);
}

Result<int64_t> ListProxy::Index(const Value& value) const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, kList, ipcd::v1::INDEX,
      [&](Call& call) { internal::ValueToProto(value, call.mutable_value()); }, ReadCount(&out)));
  return out;
}

Result<int64_t> ListProxy::Count(const Value& value) const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, kList, ipcd::v1::COUNT,
      [&](Call& call) { internal::ValueToProto(value, call.mutable_value()); }, ReadCount(&out)));
  return out;
}

Result<int64_t> ListProxy::Len() const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(
      RunCall(*connection_, name_, kList, ipcd::v1::LEN, NoArguments, ReadCount(&out)));
  return out;
}

Result<Value::List> ListProxy::Slice(int64_t start, std::optional<int64_t> stop) const {
  Value::List out;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, kList, ipcd::v1::SLICE,
      [&](Call& call) {
        call.set_index(start);
        if (stop) call.set_stop(*stop);
      },
      [&](const ipcd::v1::Result& r) {
        out.reserve(r.values_size());
        for (const ipcd::v1::Value& v : r.values()) out.push_back(internal::ValueFromProto(v));
        return Status::Ok();
      }));
  return out;
}

Status ListProxy::Clear() {
  return RunCall(*connection_, name_, kList, ipcd::v1::CLEAR, NoArguments, IgnoreResult);
}

}  // namespace ipc
