// Fuzz target: Value decoding and nesting.
//   - The bytes as an ipcd.v1.Value, parsed with the daemon's recursion limit
//     (kParseRecursionLimit): TooDeep, ValuesEqual and ValueBytes must cope
//     with any nesting; converted to ipc::Value (the client's ValueFromProto)
//     and back, the round trip must be stable: ipc -> proto -> ipc gives an
//     equal Value (unless a NaN is inside, which equals nothing) and the same
//     JSON, and encoding both gives the same bytes.
//   - The bytes as an ipcd.v1.Request (ParseRequest, as the daemon reads a
//     frame), with CheckNesting and CheckObjectName on its calls.
//   - The bytes as a command-line word (Value::ParseWord).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "dispatch/dispatcher.h"
#include "ipc/value.h"
#include "manager/wire.h"
#include "objects/kind.h"
#include "objects/value.h"
#include "proto/ipcd.pb.h"
#include <google/protobuf/stubs/logging.h>

namespace {

// Protobuf logs every unparsable string field; the fuzzer makes many.
[[maybe_unused]] const bool kQuietProtobuf =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace v1 = ipcd::v1;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "value_fuzz: %s\n", what);
  std::abort();
}

bool HasNaN(const ipc::Value& v) {
  if (const double* d = v.if_double()) return std::isnan(*d);
  if (const auto* list = v.if_list()) {
    for (const ipc::Value& item : *list)
      if (HasNaN(item)) return true;
  }
  if (const auto* map = v.if_map()) {
    for (const auto& [key, item] : *map)
      if (HasNaN(item)) return true;
  }
  return false;
}

std::string Encode(const ipc::Value& v) {
  v1::Value proto;
  ipc::internal::ValueToProto(v, &proto);
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  if (!proto.SerializeToCodedStream(&out)) Fail("cannot serialize a Value");
  out.Trim();
  return bytes;
}

void FuzzValue(const uint8_t* data, size_t size) {
  v1::Value value;
  google::protobuf::io::CodedInputStream in(data, static_cast<int>(size));
  in.SetRecursionLimit(ipcd::kParseRecursionLimit);
  if (!value.MergeFromCodedStream(&in) || !in.ConsumedEntireMessage()) return;

  (void)ipcd::TooDeep(value);
  (void)ipcd::ValueBytes(value);
  const ipc::Value a = ipc::internal::ValueFromProto(value);
  if (!HasNaN(a) && !ipcd::ValuesEqual(value, value))
    Fail("ValuesEqual(v, v) is false without a NaN");
  const std::string json_a = a.ToJson();
  (void)a.AsInt();
  (void)a.AsDouble();
  (void)a.AsBool();
  (void)a.AsString();

  v1::Value proto;
  ipc::internal::ValueToProto(a, &proto);
  const ipc::Value b = ipc::internal::ValueFromProto(proto);
  if (!HasNaN(a) && !(a == b)) Fail("ipc -> proto -> ipc changed the Value");
  if (b.ToJson() != json_a) Fail("ipc -> proto -> ipc changed the JSON");
  if (Encode(a) != Encode(b)) Fail("encoding is not stable");
  v1::Value again;
  ipc::internal::ValueToProto(b, &again);
  if (!HasNaN(a) && !ipcd::ValuesEqual(proto, again))
    Fail("ValuesEqual is false for two encodings of one Value");
}

void FuzzRequest(const uint8_t* data, size_t size) {
  v1::Request request;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!ipcd::ParseRequest(bytes, &request)) return;
  auto check = [](const v1::Call& call) {
    (void)ipcd::CheckNesting(call);
    (void)ipcd::CheckObjectName(call.object());
    if (const ipcd::KindSpec* kind = ipcd::FindKind(call.kind())) (void)kind->Find(call.op());
  };
  if (request.has_call()) check(request.call());
  for (const v1::Call& call : request.batch().calls()) check(call);
}

void FuzzWord(const uint8_t* data, size_t size) {
  const std::string_view word(reinterpret_cast<const char*>(data), size);
  const ipc::Value v = ipc::Value::ParseWord(word);
  if (const std::string* s = v.if_string()) {
    if (*s != word) Fail("ParseWord changed a word it kept as text");
  } else if (const int64_t* n = v.if_int()) {
    if (!(ipc::Value::ParseWord(std::to_string(*n)) == v))
      Fail("ParseWord does not read back an int it produced");
  } else if (const double* d = v.if_double()) {
    if (!std::isfinite(*d)) Fail("ParseWord produced a non-finite double");
  }
  (void)v.ToJson();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  FuzzValue(data, size);
  FuzzRequest(data, size);
  FuzzWord(data, size);
  return 0;
}
