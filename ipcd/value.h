// Helpers for ipcd.v1.Value: equality (for COMPARE_AND_SET) and the size
// a stored value is charged against max_bytes.
//
// Thread safety: pure functions.
#ifndef IPCD_VALUE_H_
#define IPCD_VALUE_H_

#include <cstdint>

#include "proto/ipcd.pb.h"

namespace ipcd {

// Structural equality; a Value with no kind set equals null. Doubles compare
// with == (so NaN equals nothing).
bool ValuesEqual(const v1::Value& a, const v1::Value& b);

// The bytes a stored value costs: its serialized size.
inline int64_t ValueBytes(const v1::Value& value) {
  return static_cast<int64_t>(value.ByteSizeLong());
}

}  // namespace ipcd

#endif  // IPCD_VALUE_H_
