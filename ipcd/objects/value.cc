#include "objects/value.h"

#include <google/protobuf/io/coded_stream.h>

namespace ipcd {
namespace {

v1::Value::KindCase KindOf(const v1::Value& v) {
  return v.kind_case() == v1::Value::KIND_NOT_SET ? v1::Value::kNullValue
                                                  : v.kind_case();
}

}  // namespace

bool TooDeep(const v1::Value& value, int depth) {
  if (value.has_list_value()) {
    if (depth + 1 > kMaxValueNesting) return true;
    for (const v1::Value& item : value.list_value().items()) {
      if (TooDeep(item, depth + 1)) return true;
    }
  } else if (value.has_map_value()) {
    if (depth + 1 > kMaxValueNesting) return true;
    for (const v1::Entry& entry : value.map_value().entries()) {
      if (TooDeep(entry.value(), depth + 1)) return true;
    }
  }
  return false;
}

bool ParseRequest(const std::string& bytes, v1::Request* request) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kParseRecursionLimit);
  request->Clear();
  return request->MergeFromCodedStream(&in) && in.ConsumedEntireMessage();
}

bool ValuesEqual(const v1::Value& a, const v1::Value& b) {
  if (KindOf(a) != KindOf(b)) return false;
  switch (KindOf(a)) {
    case v1::Value::kNullValue:
      return true;
    case v1::Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    case v1::Value::kIntValue:
      return a.int_value() == b.int_value();
    case v1::Value::kDoubleValue:
      return a.double_value() == b.double_value();
    case v1::Value::kStringValue:
      return a.string_value() == b.string_value();
    case v1::Value::kBytesValue:
      return a.bytes_value() == b.bytes_value();
    case v1::Value::kListValue: {
      const auto& x = a.list_value().items();
      const auto& y = b.list_value().items();
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); ++i) {
        if (!ValuesEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case v1::Value::kMapValue: {
      const auto& x = a.map_value().entries();
      const auto& y = b.map_value().entries();
      if (x.size() != y.size()) return false;
      for (int i = 0; i < x.size(); ++i) {
        if (x[i].key() != y[i].key() ||
            !ValuesEqual(x[i].value(), y[i].value())) {
          return false;
        }
      }
      return true;
    }
    case v1::Value::KIND_NOT_SET:
      return true;
  }
  return false;
}

}  // namespace ipcd
