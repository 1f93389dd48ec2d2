#include "manager/redis/call_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "manager/wire.h"

namespace ipc::internal {
namespace {

namespace v1 = ipcd::v1;

// As ipcd: lists and maps nest at most this deep.
constexpr int kMaxValueNesting = 30;
// The script counts in doubles (Lua numbers, sorted-set scores): integers
// beyond 2^53 would lose digits.
constexpr int64_t kMaxExactInt = int64_t{1} << 53;

// Fields per call before its items; lua/dispatch.lua reads them in this order.
enum Field {
  kKeyIndex, kKind, kOp, kKey, kValue, kExpected, kNum, kExpectedNum, kCapacity, kOrder,
  kIndex, kStop, kPriority, kState, kNeverEqual, kPreError, kItemCount, kMayWait, kCount, kLock,
  kFields
};

// Whether s is well-formed UTF-8 (what a proto3 string must hold: ipcd
// refuses a request that breaks it, and a reply carrying it would not
// parse).
bool Utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

struct Scan {
  int depth = 0;  // As ipcd counts it: a list or map of scalars is 1.
  bool nan = false;
  bool utf8 = true;
};

void ScanValue(const v1::Value& value, int depth, Scan* scan) {
  switch (value.kind_case()) {
    case v1::Value::kDoubleValue:
      scan->nan = scan->nan || std::isnan(value.double_value());
      return;
    case v1::Value::kStringValue:
      scan->utf8 = scan->utf8 && Utf8(value.string_value());
      return;
    case v1::Value::kListValue:
      scan->depth = std::max(scan->depth, depth + 1);
      for (const v1::Value& item : value.list_value().items()) ScanValue(item, depth + 1, scan);
      return;
    case v1::Value::kMapValue:
      scan->depth = std::max(scan->depth, depth + 1);
      for (const v1::Entry& e : value.map_value().entries()) {
        scan->utf8 = scan->utf8 && Utf8(e.key());
        ScanValue(e.value(), depth + 1, scan);
      }
      return;
    default:
      return;
  }
}

// -0.0 becomes 0.0: ipcd compares doubles with ==, and the script
// compares bytes.
void PositiveZeros(v1::Value* value) {
  switch (value->kind_case()) {
    case v1::Value::kDoubleValue:
      if (value->double_value() == 0.0) value->set_double_value(0.0);
      return;
    case v1::Value::kListValue:
      for (v1::Value& item : *value->mutable_list_value()->mutable_items()) PositiveZeros(&item);
      return;
    case v1::Value::kMapValue:
      for (v1::Entry& e : *value->mutable_map_value()->mutable_entries()) {
        PositiveZeros(e.mutable_value());
      }
      return;
    default:
      return;
  }
}

// The bytes the script stores and compares: maps in key order with one
// entry per key and zeros without a sign, so that values ipcd finds equal
// have equal bytes (NaN aside, which the call flags).
std::string Canonical(const v1::Value& value) {
  v1::Value canonical;
  ValueToProto(ValueFromProto(value), &canonical);
  PositiveZeros(&canonical);
  std::string out;
  canonical.SerializeToString(&out);
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 255 || !Utf8(name)) return false;
  return std::none_of(name.begin(), name.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

// What the call lacks that ipcd requires ("needs a value", ...); nullptr
// when nothing. (Runs for every call: no strings built.)
const char* MissingArgument(const v1::Call& call) {
  const v1::Op op = call.op();
  switch (call.kind()) {
    case v1::DICT:
    case v1::NAMESPACE:
      if ((op == v1::SET || op == v1::SETDEFAULT || op == v1::COMPARE_AND_SET) &&
          !call.has_value()) {
        return "needs a value";
      }
      return nullptr;
    case v1::VALUE:
      if ((op == v1::SET || op == v1::COMPARE_AND_SET) && !call.has_value()) {
        return "needs a value";
      }
      return nullptr;
    case v1::QUEUE:
      if (op == v1::PUT && !call.has_value()) return "needs a value";
      if (!v1::QueueOrder_IsValid(call.order())) return "names no known queue order";
      return nullptr;
    case v1::COUNTER:
      if ((op == v1::SET || op == v1::ADD || op == v1::COMPARE_AND_SET) &&
          call.value().kind_case() != v1::Value::kIntValue) {
        return "needs value.int_value";
      }
      if (op == v1::COMPARE_AND_SET && call.expected().kind_case() != v1::Value::kIntValue) {
        return "needs expected.int_value";
      }
      return nullptr;
    case v1::SEMAPHORE:
    case v1::BOUNDED_SEMAPHORE:
      if (op == v1::CREATE && call.has_value() &&
          (call.value().kind_case() != v1::Value::kIntValue || call.value().int_value() < 0)) {
        return "needs value.int_value >= 0 (the initial units)";
      }
      return nullptr;
    default:
      return nullptr;
  }
}

bool TakesKey(const v1::Call& call) {
  if (call.kind() != v1::DICT && call.kind() != v1::NAMESPACE) return false;
  switch (call.op()) {
    case v1::GET: case v1::SET: case v1::DELETE: case v1::CONTAINS: case v1::POP:
    case v1::SETDEFAULT: case v1::COMPARE_AND_SET:
      return true;
    default:
      return false;
  }
}

// What is wrong with call that only the client can see; "" when nothing.
// internal: the call is one of the client's own operations.
std::string PreError(const v1::Call& call, const Scan& value, const Scan& expected,
                     bool internal) {
  const auto invalid = [](const std::string& why) {
    return std::to_string(v1::INVALID_ARGUMENT) + ":" + why;
  };
  if (!ValidName(call.object())) {
    return invalid("object name must be 1 to 255 bytes of printable UTF-8");
  }
  if (!internal && (!v1::Op_IsValid(call.op()) || call.op() == v1::OP_UNSPECIFIED)) {
    return std::to_string(v1::UNSUPPORTED) + ":'" + call.object() + "': unknown operation " +
           std::to_string(call.op());
  }
  const auto what = [&call] { return "'" + call.object() + "'"; };
  if (call.has_timeout_ms() && call.timeout_ms() < 0) {
    return invalid(what() + ": timeout_ms must not be negative");
  }
  if (call.capacity() < 0) return invalid(what() + ": capacity must not be negative");
  if (value.depth > kMaxValueNesting || expected.depth > kMaxValueNesting) {
    return invalid(what() + ": a value nests lists and maps deeper than " +
                   std::to_string(kMaxValueNesting));
  }
  if (!value.utf8 || !expected.utf8) {
    return invalid(what() + ": a string in the value is not valid UTF-8 (send bytes instead)");
  }
  for (const v1::Entry& e : call.items()) {
    Scan item;
    ScanValue(e.value(), 0, &item);
    if (!item.utf8 || !Utf8(e.key())) return invalid(what() + ": a key or string is not valid UTF-8");
    if (item.depth > kMaxValueNesting) {
      return invalid(what() + ": a value nests lists and maps deeper than " +
                     std::to_string(kMaxValueNesting));
    }
  }
  if (!Utf8(call.key()) || !Utf8(call.lock())) {
    return invalid(what() + ": the key or lock name is not valid UTF-8");
  }
  if (const char* missing = internal ? nullptr : MissingArgument(call)) {
    return invalid(std::string(KindName(call.kind())) + " '" + call.object() + "': " +
                   v1::Op_Name(call.op()) + " " + missing);
  }
  if (call.has_priority() &&
      (call.priority() > kMaxExactInt || call.priority() < -kMaxExactInt)) {
    return invalid(what() + ": a priority on Redis must be within +-2^53 (a sorted set's score)");
  }
  if ((call.kind() == v1::SEMAPHORE || call.kind() == v1::BOUNDED_SEMAPHORE) &&
      call.op() == v1::CREATE && call.value().int_value() > kMaxExactInt) {
    return invalid(what() + ": a semaphore on Redis counts at most 2^53 units");
  }
  if (TakesKey(call) && call.key().empty()) return invalid(what() + ": a key must not be empty");
  for (const v1::Entry& e : call.items()) {
    if (e.key().empty()) return invalid(what() + ": a key must not be empty");
  }
  return "";
}

std::string Optional(bool has, int64_t v) { return has ? std::to_string(v) : std::string(); }

bool ParseInt64(std::string_view s, int64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

Status Garbled(const char* what) {
  return Status(ErrorCode::kProtocolError, std::string("redis: the Manager's function answered oddly: its reply ") + what);
}

// A reply's value field into *out: '' unset, 'v' + Value bytes, 'i' + int.
Status DecodeValue(const std::string& field, v1::Value* out) {
  if (field.empty()) return Status::Ok();
  if (field[0] == 'v') {
    if (!out->ParseFromArray(field.data() + 1, static_cast<int>(field.size() - 1))) {
      return Garbled("holds a value that does not parse");
    }
    return Status::Ok();
  }
  int64_t n = 0;
  if (field[0] != 'i' || !ParseInt64(std::string_view(field).substr(1), &n)) {
    return Garbled("holds a value of no known form");
  }
  out->set_int_value(n);
  return Status::Ok();
}

bool IsString(const RedisReply& r) { return r.type == RedisReply::Type::kString; }

// KEYS, VALUES and ITEMS of a dict: HGETALL's pairs, in key order.
Status DecodeEntries(const v1::Call& call, const RedisReply& flat, v1::Result* result) {
  std::vector<std::pair<const std::string*, const std::string*>> entries;
  entries.reserve(flat.elements.size() / 2);
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
    entries.emplace_back(&flat.elements[i].str, &flat.elements[i + 1].str);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [key, bytes] : entries) {
    if (call.op() == v1::KEYS) {
      result->add_keys(*key);
      continue;
    }
    v1::Value* value;
    if (call.op() == v1::VALUES) {
      value = result->add_values();
    } else {
      v1::Entry* e = result->add_items();
      e->set_key(*key);
      value = e->mutable_value();
    }
    if (!value->ParseFromString(*bytes)) return Garbled("holds a value that does not parse");
  }
  return Status::Ok();
}

}  // namespace

std::string RedisObjectPrefix(std::string_view name) {
  std::string p = "{ipc:";
  p.append(name);
  p += '}';
  return p;
}

std::string RedisWakeChannel(std::string_view name) { return RedisObjectPrefix(name) + ":w"; }

std::string RedisNameOfMetaKey(std::string_view key) {
  constexpr std::string_view kHead = "{ipc:", kTail = "}:k";
  if (key.size() <= kHead.size() + kTail.size() || key.substr(0, kHead.size()) != kHead ||
      key.substr(key.size() - kTail.size()) != kTail) {
    return "";
  }
  return std::string(key.substr(kHead.size(), key.size() - kHead.size() - kTail.size()));
}

RedisScriptArgs::RedisScriptArgs(std::string_view token, int64_t lease_ms) {
  argv = {std::string(token), std::to_string(lease_ms), "0"};
}

size_t RedisScriptArgs::KeyIndex(std::string_view name) {
  std::string prefix = RedisObjectPrefix(name);
  auto [it, added] = key_index_.try_emplace(prefix, keys.size() + 1);
  if (added) keys.push_back(std::move(prefix));
  return it->second;
}

void RedisScriptArgs::Add(const v1::Call& call, std::string_view state, int op, bool may_wait) {
  const size_t key_index = KeyIndex(call.object());
  // A condition's calls touch its lock too.
  if (!call.lock().empty()) KeyIndex(call.lock());

  Scan value, expected;
  if (call.has_value()) ScanValue(call.value(), 0, &value);
  if (call.has_expected()) ScanValue(call.expected(), 0, &expected);
  // A semaphore's units come from a CREATE that gives them; any other
  // first use makes one with 1, as in ipcd.
  const bool semaphore = call.kind() == v1::SEMAPHORE || call.kind() == v1::BOUNDED_SEMAPHORE;
  const int64_t num = semaphore && !(call.op() == v1::CREATE && call.has_value())
                          ? 1
                          : call.value().int_value();

  // A call with an error goes with it alone: its values (which may not even
  // serialize, as text that is not UTF-8) are not read.
  const std::string error = PreError(call, value, expected, /*internal=*/op != 0);
  std::vector<std::string> items;
  if (!error.empty()) {
    // Nothing else to gather.
  } else if (call.op() == v1::EXTEND) {
    for (const v1::Value& item : call.value().list_value().items()) {
      items.emplace_back();
      items.push_back(Canonical(item));
    }
  }
  if (error.empty()) {
    for (const v1::Entry& e : call.items()) {
      items.push_back(e.key());
      items.push_back(Canonical(e.value()));
    }
  }

  const size_t base = argv.size();
  argv.resize(base + kFields);
  std::string* f = &argv[base];
  f[kKeyIndex] = std::to_string(key_index);
  f[kKind] = std::to_string(call.kind());
  f[kOp] = std::to_string(op != 0 ? op : call.op());
  f[kKey] = call.key();
  // A counter's calls read only the number (kNum).
  if (error.empty() && call.has_value() && call.kind() != v1::COUNTER) {
    f[kValue] = "v" + Canonical(call.value());
  }
  if (error.empty() && call.has_expected()) f[kExpected] = "v" + Canonical(call.expected());
  f[kNum] = std::to_string(num);
  f[kExpectedNum] = std::to_string(call.expected().int_value());
  f[kCapacity] = std::to_string(call.capacity());
  f[kOrder] = std::to_string(call.order());
  f[kIndex] = Optional(call.has_index(), call.index());
  f[kStop] = Optional(call.has_stop(), call.stop());
  f[kPriority] = Optional(call.has_priority(), call.priority());
  f[kState] = std::string(state);
  f[kNeverEqual] = value.nan || expected.nan ? "1" : "0";
  f[kPreError] = error;
  f[kItemCount] = std::to_string(items.size() / 2);
  f[kMayWait] = may_wait ? "1" : "0";
  f[kCount] = Optional(call.has_count(), call.count());
  f[kLock] = call.lock();
  for (std::string& item : items) argv.push_back(std::move(item));
  argv[2] = std::to_string(++calls_);
}

Status DecodeRedisCallReply(const v1::Call& call, const RedisReply& reply, v1::Status* status,
                            v1::Result* result, RedisFlow* flow) {
  const auto& e = reply.elements;
  if (reply.type != RedisReply::Type::kArray || e.size() != 9 ||
      e[0].type != RedisReply::Type::kInteger || !IsString(e[1]) || !IsString(e[2]) ||
      e[5].type != RedisReply::Type::kArray || !IsString(e[6]) ||
      e[7].type != RedisReply::Type::kArray) {
    return Garbled("is not an array of 9 fields");
  }
  *flow = RedisFlow{};
  flow->held = e[6].str;
  flow->final = e[8].integer != 0;
  if (const auto& b = e[7].elements; !b.empty()) {
    if (b.size() != 5) return Garbled("holds a block of the wrong size");
    flow->timeout_code = static_cast<v1::Code>(b[0].integer);
    flow->timeout_message = e[1].str;
    flow->retry_ms = b[1].integer;
    flow->state = b[2].str;
    flow->channel = b[3].str;
    flow->unbounded = b[4].integer != 0;
    return Status::Ok();
  }
  const auto code = static_cast<v1::Code>(e[0].integer);
  if (!v1::Code_IsValid(code)) return Garbled("holds an unknown code");
  status->set_code(code);
  status->set_message(e[1].str);
  if (code != v1::OK) return Status::Ok();
  IPC_RETURN_IF_ERROR(DecodeValue(e[2].str, result->mutable_value()));
  if (e[2].str.empty()) result->clear_value();
  result->set_flag(e[3].integer != 0);
  // A count past 2^53 comes as text: a Lua number would lose digits.
  if (e[4].type == RedisReply::Type::kString) {
    int64_t n = 0;
    if (!ParseInt64(e[4].str, &n)) return Garbled("holds a count of no known form");
    result->set_count(n);
  } else {
    result->set_count(e[4].integer);
  }
  const RedisReply& a = e[5];
  if (call.op() == v1::KEYS || call.op() == v1::VALUES || call.op() == v1::ITEMS) {
    return DecodeEntries(call, a, result);
  }
  for (const RedisReply& item : a.elements) {
    if (call.op() == v1::SLICE) {
      if (!result->add_values()->ParseFromString(item.str)) {
        return Garbled("holds a value that does not parse");
      }
    } else {
      result->add_keys(item.str);  // INFO: the object's bytes.
    }
  }
  return Status::Ok();
}

}  // namespace ipc::internal
