// Helpers for ipcd.v1.Value: equality (for COMPARE_AND_SET) and the size
// a stored value is charged against max_bytes.
//
// Thread safety: pure functions.
#ifndef IPCD_OBJECTS_VALUE_H_
#define IPCD_OBJECTS_VALUE_H_

#include <cstdint>

#include "proto/ipcd.pb.h"

namespace ipcd {

// Structural equality; a Value with no kind set equals null. Doubles compare
// with == (so NaN equals nothing). Maps compare as the protocol reads them:
// in any entry order, and of a repeated key only the last entry counts.
bool ValuesEqual(const v1::Value& a, const v1::Value& b);

// How deep lists and maps may nest in a Value (a scalar is depth 0; a list
// of scalars 1). Chosen so that every response that carries a stored
// value, the deepest being Response > BatchReply > CallReply > Result >
// Entry > Value and three messages (Value, ValueMap, Entry) per map level,
// stays within the default recursion limit (100) of standard Protobuf
// parsers.
inline constexpr int kMaxValueNesting = 30;

// How deep a request may nest messages at all for the daemon to parse it
// (protobuf's recursion limit); past kMaxValueNesting and up to this the
// request is parsed and refused with INVALID_ARGUMENT, past it the frame is
// unparsable (PROTOCOL_ERROR). Bounded so a parse cannot exhaust the stack.
inline constexpr int kParseRecursionLimit = 1000;

// Whether value nests lists and maps deeper than kMaxValueNesting.
bool TooDeep(const v1::Value& value, int depth = 0);

// Parses a Request with kParseRecursionLimit instead of protobuf's default.
bool ParseRequest(const std::string& bytes, v1::Request* request);

// The bytes a stored value costs: its serialized size.
inline int64_t ValueBytes(const v1::Value& value) {
  return static_cast<int64_t>(value.ByteSizeLong());
}

}  // namespace ipcd

#endif  // IPCD_OBJECTS_VALUE_H_
