// Small helpers for ipcctl's two output forms: JSON text for --json, and
// the plain form people read. JSON is built from ipc::Value::ToJson so
// that escaping lives in one place.
//
// Thread safety: plain functions and values.
#ifndef IPC_TOOLS_IPCCTL_JSON_OUTPUT_H_
#define IPC_TOOLS_IPCCTL_JSON_OUTPUT_H_

#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include "ipc/value.h"

namespace ipcctl {

// s as a JSON string literal, quotes included.
inline std::string JsonString(std::string_view s) {
  return ipc::Value(s).ToJson();
}

// Builds one JSON object, member by member, in the order given:
//   JsonObject().Add("name", "hits").Add("value", 5).Text()
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, const ipc::Value& value) {
    return AddRaw(key, value.ToJson());
  }
  // A member whose value is JSON text already.
  JsonObject& AddRaw(std::string_view key, std::string_view json) {
    text_ += text_.size() > 1 ? "," : "";
    text_ += JsonString(key);
    text_ += ":";
    text_ += json;
    return *this;
  }
  std::string Text() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

// Prints items as one JSON array line, each made an object by to_object.
template <typename Items, typename ToObject>
void PrintJsonArray(const Items& items, ToObject to_object) {
  std::cout << "[";
  bool first = true;
  for (const auto& item : items) {
    std::cout << (first ? "" : ",") << to_object(item).Text();
    first = false;
  }
  std::cout << "]\n";
}

// How a value reads for people: text as it is, anything else as JSON (so
// 42, true, null, [1,2] and {"bytes":"..."} keep their kind visible).
inline std::string HumanValue(const ipc::Value& value) {
  if (const std::string* text = value.if_string()) return *text;
  return value.ToJson();
}

}  // namespace ipcctl

#endif  // IPC_TOOLS_IPCCTL_JSON_OUTPUT_H_
