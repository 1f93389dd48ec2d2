// DictProxy: each method is one Call on a DICT (see Op in proto/ipcd.proto),
// except Modify, a loop of them.
#include <cmath>

#include "ipc/manager.h"
#include "manager/proxy_call.h"

namespace ipc {

using internal::IgnoreResult;
using internal::NoArguments;
using internal::RunCall;
using internal::ValueFromProto;
using internal::ValueToProto;
using ipcd::v1::Call;

namespace {

constexpr ipcd::v1::Kind kDict = ipcd::v1::DICT;

Status ReadValue(const ipcd::v1::Result& result, Value* out) {
  *out = ValueFromProto(result.value());
  return Status::Ok();
}

// A call on key that returns a Value: GET, POP, SETDEFAULT. value, when
// given, is the call's value argument (a default, or what to set).
Result<Value> KeyCall(internal::ManagerConnection& connection,
                      const std::string& name, ipcd::v1::Op op,
                      std::string_view key, const Value* value) {
  Value out;
  IPC_RETURN_IF_ERROR(RunCall(
      connection, name, kDict, op,
      [&](Call& call) {
        call.set_key(key.data(), key.size());
        if (value != nullptr) ValueToProto(*value, call.mutable_value());
      },
      [&](const ipcd::v1::Result& r) { return ReadValue(r, &out); }));
  return out;
}

// "dict 'cfg' key 'port'", as the daemon names a dict, for errors found
// on this side.
std::string Where(const std::string& name, std::string_view key) {
  return "dict '" + name + "' key '" + std::string(key) + "'";
}

// Reads key with fallback, then takes the kind wanted out of it.
template <typename T>
Result<T> TypedGet(const DictProxy& dict, std::string_view key, Value fallback,
                   Result<T> (Value::*as)() const) {
  IPC_ASSIGN_OR_RETURN(const Value value, dict.Get(key, std::move(fallback)));
  Result<T> typed = (value.*as)();
  if (!typed.ok()) return typed.status().WithContext(Where(dict.name(), key));
  return typed;
}

// True when v holds a NaN anywhere: the daemon's equality, like IEEE's,
// never matches it, so a compare-and-set expecting v can never succeed.
bool HoldsNaN(const Value& v) {
  if (const double* d = v.if_double()) return std::isnan(*d);
  if (const Value::List* list = v.if_list()) {
    for (const Value& item : *list) {
      if (HoldsNaN(item)) return true;
    }
  }
  if (const Value::Map* map = v.if_map()) {
    for (const auto& [k, item] : *map) {
      if (HoldsNaN(item)) return true;
    }
  }
  return false;
}

}  // namespace

Result<Value> DictProxy::Get(std::string_view key) const {
  return KeyCall(*connection_, name_, ipcd::v1::GET, key, nullptr);
}

Result<Value> DictProxy::Get(std::string_view key, Value fallback) const {
  return KeyCall(*connection_, name_, ipcd::v1::GET, key, &fallback);
}

Status DictProxy::Set(std::string_view key, Value value) {
  return RunCall(
      *connection_, name_, kDict, ipcd::v1::SET,
      [&](Call& call) {
        call.set_key(key.data(), key.size());
        ValueToProto(value, call.mutable_value());
      },
      IgnoreResult);
}

Status DictProxy::Delete(std::string_view key) {
  return RunCall(
      *connection_, name_, kDict, ipcd::v1::DELETE,
      [&](Call& call) { call.set_key(key.data(), key.size()); }, IgnoreResult);
}

Result<bool> DictProxy::Contains(std::string_view key) const {
  bool out = false;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, kDict, ipcd::v1::CONTAINS,
      [&](Call& call) { call.set_key(key.data(), key.size()); },
      [&](const ipcd::v1::Result& r) {
        out = r.flag();
        return Status::Ok();
      }));
  return out;
}

Result<int64_t> DictProxy::Len() const {
  int64_t out = 0;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kDict, ipcd::v1::LEN,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                out = r.count();
                                return Status::Ok();
                              }));
  return out;
}

Result<std::vector<std::string>> DictProxy::Keys() const {
  std::vector<std::string> out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kDict, ipcd::v1::KEYS,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                out.assign(r.keys().begin(), r.keys().end());
                                return Status::Ok();
                              }));
  return out;
}

Result<std::vector<Value>> DictProxy::Values() const {
  std::vector<Value> out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kDict, ipcd::v1::VALUES,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                out.reserve(r.values_size());
                                for (const auto& v : r.values()) {
                                  out.push_back(ValueFromProto(v));
                                }
                                return Status::Ok();
                              }));
  return out;
}

Result<Value::Map> DictProxy::Items() const {
  Value::Map out;
  IPC_RETURN_IF_ERROR(RunCall(*connection_, name_, kDict, ipcd::v1::ITEMS,
                              NoArguments, [&](const ipcd::v1::Result& r) {
                                for (const auto& entry : r.items()) {
                                  out[entry.key()] =
                                      ValueFromProto(entry.value());
                                }
                                return Status::Ok();
                              }));
  return out;
}

Status DictProxy::Update(const Value::Map& entries) {
  return RunCall(
      *connection_, name_, kDict, ipcd::v1::UPDATE,
      [&](Call& call) {
        call.mutable_items()->Reserve(static_cast<int>(entries.size()));
        for (const auto& [key, value] : entries) {
          ipcd::v1::Entry* entry = call.add_items();
          entry->set_key(key);
          ValueToProto(value, entry->mutable_value());
        }
      },
      IgnoreResult);
}

Result<Value> DictProxy::Pop(std::string_view key) {
  return KeyCall(*connection_, name_, ipcd::v1::POP, key, nullptr);
}

Result<Value> DictProxy::Pop(std::string_view key, Value fallback) {
  return KeyCall(*connection_, name_, ipcd::v1::POP, key, &fallback);
}

Result<Value> DictProxy::SetDefault(std::string_view key, Value value) {
  return KeyCall(*connection_, name_, ipcd::v1::SETDEFAULT, key, &value);
}

Status DictProxy::Clear() {
  return RunCall(*connection_, name_, kDict, ipcd::v1::CLEAR, NoArguments,
                 IgnoreResult);
}

Result<bool> DictProxy::CompareAndSet(std::string_view key,
                                      std::optional<Value> expected,
                                      Value desired) {
  bool out = false;
  IPC_RETURN_IF_ERROR(RunCall(
      *connection_, name_, kDict, ipcd::v1::COMPARE_AND_SET,
      [&](Call& call) {
        call.set_key(key.data(), key.size());
        // An unset expected means "key absent".
        if (expected) ValueToProto(*expected, call.mutable_expected());
        ValueToProto(desired, call.mutable_value());
      },
      [&](const ipcd::v1::Result& r) {
        out = r.flag();
        return Status::Ok();
      }));
  return out;
}

Result<int64_t> DictProxy::GetInt(std::string_view key,
                                  int64_t fallback) const {
  return TypedGet<int64_t>(*this, key, fallback, &Value::AsInt);
}

Result<double> DictProxy::GetDouble(std::string_view key,
                                    double fallback) const {
  return TypedGet<double>(*this, key, fallback, &Value::AsDouble);
}

Result<bool> DictProxy::GetBool(std::string_view key, bool fallback) const {
  return TypedGet<bool>(*this, key, fallback, &Value::AsBool);
}

Result<std::string> DictProxy::GetString(std::string_view key,
                                         std::string_view fallback) const {
  return TypedGet<std::string>(*this, key, fallback, &Value::AsString);
}

Result<Value> DictProxy::Modify(std::string_view key, const Modifier& fn,
                                Deadline deadline) {
  std::optional<Value> current;
  Result<Value> read = Get(key);
  if (read.ok()) {
    current = std::move(*read);
  } else if (read.status().code() != ErrorCode::kNotFound) {
    return read.status();
  }
  for (int64_t lost = 0;; ++lost) {
    if (current && HoldsNaN(*current)) {
      return Status(ErrorCode::kInvalidArgument,
                    Where(name_, key) +
                        " holds a NaN, which never equals itself, so no "
                        "compare-and-set can replace it");
    }
    Result<Value> next = fn(current);
    if (!next.ok()) return next.status();
    // The daemon's answer to a compare-and-set carries the key's value
    // after it: on a loss, the value that won, to try again from.
    bool stored = false;
    std::optional<Value> after;
    IPC_RETURN_IF_ERROR(RunCall(
        *connection_, name_, kDict, ipcd::v1::COMPARE_AND_SET,
        [&](Call& call) {
          call.set_key(key.data(), key.size());
          if (current) ValueToProto(*current, call.mutable_expected());
          ValueToProto(*next, call.mutable_value());
        },
        [&](const ipcd::v1::Result& r) {
          stored = r.flag();
          if (r.has_value()) after = ValueFromProto(r.value());
          return Status::Ok();
        }));
    if (stored) return std::move(*next);
    if (deadline.is_non_blocking() || deadline.Expired()) {
      return Status(ErrorCode::kDeadlineExceeded,
                    Where(name_, key) + ": Modify lost the compare-and-set " +
                        std::to_string(lost + 1) +
                        " time(s) to other writers before the deadline; "
                        "nothing was stored");
    }
    current = std::move(after);
  }
}

}  // namespace ipc
