// ValueProxy and NamespaceProxy: each method is one Call on a value or a
// namespace (see Op in proto/ipcd.proto).
#include "ipc/manager.h"
#include "manager/proxy_call.h"

namespace ipc {

using internal::IgnoreResult;
using internal::NoArguments;
using internal::ReadValue;
using internal::RunCall;
using internal::ValueFromProto;
using internal::ValueToProto;
using ipcd::v1::Call;

Status ValueProxy::Create(Value initial) {
  return RunCall(
      *connection_, name_, ipcd::v1::VALUE, ipcd::v1::CREATE,
      [&](Call& call) { ValueToProto(initial, call.mutable_value()); }, IgnoreResult);
}

Result<Value> ValueProxy::Get() const {
  Value out;
  IPC_RETURN_IF_ERROR(
      RunCall(*connection_, name_, ipcd::v1::VALUE, ipcd::v1::GET, NoArguments, ReadValue(&out)));
  return out;
}

Status ValueProxy::Set(Value value) {
  return RunCall(
      *connection_, name_, ipcd::v1::VALUE, ipcd::v1::SET,
      [&](Call& call) { ValueToProto(value, call.mutable_value()); }, IgnoreResult);
}

Result<bool> ValueProxy::CompareAndSet(const Value& expected, Value desired) {
  bool swapped = false;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::VALUE, ipcd::v1::COMPARE_AND_SET,
      [&](Call& call) {
        ValueToProto(expected, call.mutable_expected());
        ValueToProto(desired, call.mutable_value());
      },
      [&](const ipcd::v1::Result& r) {
        swapped = r.flag();
        return Status::Ok();
      }));
  return swapped;
}

Result<Value> NamespaceProxy::Get(std::string_view attribute) const {
  Value out;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::NAMESPACE, ipcd::v1::GET,
      [&](Call& call) { call.set_key(std::string(attribute)); }, ReadValue(&out)));
  return out;
}

Status NamespaceProxy::Set(std::string_view attribute, Value value) {
  return RunCall(
      *connection_, name_, ipcd::v1::NAMESPACE, ipcd::v1::SET,
      [&](Call& call) {
        call.set_key(std::string(attribute));
        ValueToProto(value, call.mutable_value());
      },
      IgnoreResult);
}

Status NamespaceProxy::Delete(std::string_view attribute) {
  return RunCall(
      *connection_, name_, ipcd::v1::NAMESPACE, ipcd::v1::DELETE,
      [&](Call& call) { call.set_key(std::string(attribute)); }, IgnoreResult);
}

Result<bool> NamespaceProxy::Contains(std::string_view attribute) const {
  bool out = false;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, ipcd::v1::NAMESPACE, ipcd::v1::CONTAINS,
      [&](Call& call) { call.set_key(std::string(attribute)); },
      [&](const ipcd::v1::Result& r) {
        out = r.flag();
        return Status::Ok();
      }));
  return out;
}

Result<Value::Map> NamespaceProxy::Items() const {
  Value::Map out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, ipcd::v1::NAMESPACE, ipcd::v1::ITEMS,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                for (const auto& entry : r.items()) {
                                  out[entry.key()] = ValueFromProto(entry.value());
                                }
                                return Status::Ok();
                              }));
  return out;
}

}  // namespace ipc
