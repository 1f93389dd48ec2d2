#include "objects/value.h"

#include <map>
#include <string_view>

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
      // As the protocol reads a map: entry order does not count, and of a
      // repeated key only the last entry does.
      const auto read = [](const v1::ValueMap& map) {
        std::map<std::string_view, const v1::Value*> out;
        for (const v1::Entry& entry : map.entries()) {
          out[entry.key()] = &entry.value();
        }
        return out;
      };
      const auto x = read(a.map_value());
      const auto y = read(b.map_value());
      if (x.size() != y.size()) return false;
      for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
        if (i->first != j->first || !ValuesEqual(*i->second, *j->second)) {
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
