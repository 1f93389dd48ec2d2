// ipc::Value: a typed value as ipcd stores it in dicts and queues — null,
// bool, int64, double, string, bytes, list or map — the C++ face of the
// protocol's Value (proto/ipcd.proto).
//
//   ipc::Value v = 42;                       // int
//   ipc::Value cfg = ipc::Value::Map{{"port", 8080}, {"host", "db"}};
//   if (const int64_t* n = v.if_int()) ...;
//   ipc::Result<int64_t> n = v.AsInt();      // kInvalidArgument if not an int
//   std::cout << cfg.ToJson();               // {"host":"db","port":8080}
//
// Strings and bytes are distinct kinds (Python's str and bytes): a C++
// string literal or std::string makes a string; Value::FromBytes makes bytes.
//
// Thread safety: a plain value.
#ifndef IPC_VALUE_H_
#define IPC_VALUE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "ipc/result.h"

namespace ipc {

class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;
  // Wraps a byte string so that it is not taken for text.
  struct Bytes {
    std::string data;
    bool operator==(const Bytes&) const = default;
  };
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kBytes, kList, kMap };

  Value() = default;  // null
  Value(std::nullptr_t) {}                           // NOLINT: implicit
  Value(bool b) : v_(b) {}                           // NOLINT: implicit
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
             !std::is_same_v<T, char>)
  Value(T n) : v_(static_cast<int64_t>(n)) {}        // NOLINT: implicit
  Value(double d) : v_(d) {}                         // NOLINT: implicit
  Value(const char* s) : v_(std::string(s)) {}       // NOLINT: implicit
  Value(std::string_view s) : v_(std::string(s)) {}  // NOLINT: implicit
  Value(std::string s) : v_(std::move(s)) {}         // NOLINT: implicit
  Value(Bytes b) : v_(std::move(b)) {}               // NOLINT: implicit
  Value(List l) : v_(std::move(l)) {}                // NOLINT: implicit
  Value(Map m) : v_(std::move(m)) {}                 // NOLINT: implicit
  static Value FromBytes(std::string data) { return Value(Bytes{std::move(data)}); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }

  // The held value when it is of that kind, else nullptr.
  const bool* if_bool() const { return std::get_if<bool>(&v_); }
  const int64_t* if_int() const { return std::get_if<int64_t>(&v_); }
  const double* if_double() const { return std::get_if<double>(&v_); }
  const std::string* if_string() const { return std::get_if<std::string>(&v_); }
  const std::string* if_bytes() const {
    const Bytes* b = std::get_if<Bytes>(&v_);
    return b ? &b->data : nullptr;
  }
  const List* if_list() const { return std::get_if<List>(&v_); }
  const Map* if_map() const { return std::get_if<Map>(&v_); }

  // The held value, copied out, for code that wants an error rather than a
  // null pointer: kInvalidArgument naming the kind held otherwise ("value
  // is a string, not an int"). AsDouble also takes an int (exact up to
  // 2^53), since an integral number written as 1 rather than 1.0 is still a
  // number to the reader; no other kind is converted.
  Result<int64_t> AsInt() const;
  Result<double> AsDouble() const;
  Result<bool> AsBool() const;
  Result<std::string> AsString() const;

  // JSON text: null, true, 42, 1.5, "text", lists as arrays, maps as
  // objects. Bytes become {"bytes":"<base64>"}; non-finite doubles become
  // strings ("nan", "inf", "-inf") since JSON has no such numbers.
  std::string ToJson() const;

  // Reads a command-line word the way ipcctl does: null, true, false, a
  // whole number that fits int64 ("-17"), a finite decimal number ("1.5",
  // "1e3"), or else the word itself as a string. Exact spellings only: no
  // '+' sign, hex, spaces, "nan" or "inf"; a whole number too big for int64
  // stays a string rather than being rounded to a double.
  static Value ParseWord(std::string_view word);

  bool operator==(const Value&) const = default;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Bytes, List,
               Map>
      v_;
};

// The kind's name: "null", "bool", "int", "double", "string", "bytes",
// "list", "map".
std::string_view KindName(Value::Kind kind);

}  // namespace ipc

#endif  // IPC_VALUE_H_
