#include "manager/wire.h"

#include <chrono>
#include <string>

namespace ipc::internal {

void ValueToProto(const Value& value, ipcd::v1::Value* out) {
  out->Clear();
  switch (value.kind()) {
    case Value::Kind::kNull:
      out->set_null_value(ipcd::v1::NULL_VALUE);
      return;
    case Value::Kind::kBool:
      out->set_bool_value(*value.if_bool());
      return;
    case Value::Kind::kInt:
      out->set_int_value(*value.if_int());
      return;
    case Value::Kind::kDouble:
      out->set_double_value(*value.if_double());
      return;
    case Value::Kind::kString:
      out->set_string_value(*value.if_string());
      return;
    case Value::Kind::kBytes:
      out->set_bytes_value(*value.if_bytes());
      return;
    case Value::Kind::kList: {
      ipcd::v1::ValueList* list = out->mutable_list_value();
      list->mutable_items()->Reserve(static_cast<int>(value.if_list()->size()));
      for (const Value& item : *value.if_list()) {
        ValueToProto(item, list->add_items());
      }
      return;
    }
    case Value::Kind::kMap: {
      ipcd::v1::ValueMap* map = out->mutable_map_value();
      map->mutable_entries()->Reserve(static_cast<int>(value.if_map()->size()));
      for (const auto& [key, item] : *value.if_map()) {
        ipcd::v1::Entry* entry = map->add_entries();
        entry->set_key(key);
        ValueToProto(item, entry->mutable_value());
      }
      return;
    }
  }
}

Value ValueFromProto(const ipcd::v1::Value& value) {
  switch (value.kind_case()) {
    case ipcd::v1::Value::kNullValue:
    case ipcd::v1::Value::KIND_NOT_SET:
      return Value();
    case ipcd::v1::Value::kBoolValue:
      return Value(value.bool_value());
    case ipcd::v1::Value::kIntValue:
      return Value(value.int_value());
    case ipcd::v1::Value::kDoubleValue:
      return Value(value.double_value());
    case ipcd::v1::Value::kStringValue:
      return Value(value.string_value());
    case ipcd::v1::Value::kBytesValue:
      return Value::FromBytes(value.bytes_value());
    case ipcd::v1::Value::kListValue: {
      Value::List list;
      list.reserve(value.list_value().items_size());
      for (const ipcd::v1::Value& item : value.list_value().items()) {
        list.push_back(ValueFromProto(item));
      }
      return Value(std::move(list));
    }
    case ipcd::v1::Value::kMapValue: {
      Value::Map map;
      // A repeated key: the last entry wins, as the protocol says.
      for (const ipcd::v1::Entry& entry : value.map_value().entries()) {
        map[entry.key()] = ValueFromProto(entry.value());
      }
      return Value(std::move(map));
    }
  }
  return Value();
}

Status StatusFromProto(const ipcd::v1::Status& status) {
  const int code = status.code();
  if (code == ipcd::v1::OK) return Status::Ok();
  if (code < 0 || code > static_cast<int>(ErrorCode::kInternal)) {
    return Status(ErrorCode::kInternal, "ipcd answered with unknown code " +
                                            std::to_string(code) + ": " +
                                            status.message());
  }
  return Status(static_cast<ErrorCode>(code), status.message());
}

void SetTimeout(Deadline deadline, ipcd::v1::Call* call) {
  if (deadline.is_infinite()) {
    call->clear_timeout_ms();
    return;
  }
  if (deadline.is_non_blocking()) {
    call->set_timeout_ms(0);
    return;
  }
  const auto left = deadline.when() - Deadline::Clock::now();
  if (left <= Deadline::Clock::duration::zero()) {
    call->set_timeout_ms(0);
    return;
  }
  // Rounded up, so that a wait of 0.5 ms is not taken for "do not wait".
  call->set_timeout_ms(
      std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

std::string_view KindName(ipcd::v1::Kind kind) {
  switch (kind) {
    case ipcd::v1::DICT:
      return "dict";
    case ipcd::v1::COUNTER:
      return "counter";
    case ipcd::v1::LOCK:
      return "lock";
    case ipcd::v1::RLOCK:
      return "rlock";
    case ipcd::v1::QUEUE:
      return "queue";
    case ipcd::v1::EVENT:
      return "event";
    case ipcd::v1::LIST:
      return "list";
    case ipcd::v1::SEMAPHORE:
      return "semaphore";
    case ipcd::v1::BOUNDED_SEMAPHORE:
      return "bounded_semaphore";
    case ipcd::v1::VALUE:
      return "value";
    case ipcd::v1::NAMESPACE:
      return "namespace";
    case ipcd::v1::BARRIER:
      return "barrier";
    case ipcd::v1::CONDITION:
      return "condition";
    default:
      return "unknown";
  }
}

}  // namespace ipc::internal
