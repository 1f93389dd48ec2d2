#include "dispatch/call_bytes.h"

#include <cstdint>

namespace ipcd {
namespace {

constexpr uint32_t kRequestCall = 4;
constexpr uint32_t kRequestBatch = 5;
constexpr uint32_t kBatchCalls = 1;
constexpr int kLengthDelimited = 2;

bool ReadVarintSlow(std::string_view* in, uint64_t* value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    v |= uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

// Tags, ids and a small call's length are one byte.
inline bool ReadVarint(std::string_view* in, uint64_t* value) {
  if (!in->empty() && static_cast<uint8_t>(in->front()) < 0x80) {
    *value = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    return true;
  }
  return ReadVarintSlow(in, value);
}

// One field of a message: its number, wire type and, when length-delimited,
// its payload. False at the end of in, or (*ok false) on anything but the
// four wire types a Request is made of.
inline bool NextField(std::string_view* in, uint32_t* field, int* type,
               std::string_view* payload, bool* ok) {
  if (in->empty()) return false;
  uint64_t tag = 0;
  uint64_t skip = 0;
  *ok = ReadVarint(in, &tag) && (tag >> 3) != 0 && (tag >> 3) <= UINT32_MAX;
  if (!*ok) return false;
  *field = static_cast<uint32_t>(tag >> 3);
  *type = static_cast<int>(tag & 7);
  switch (*type) {
    case 0:
      *ok = ReadVarint(in, &skip);
      return *ok;
    case 1:
      skip = 8;
      break;
    case kLengthDelimited:
      *ok = ReadVarint(in, &skip);
      if (!*ok) return false;
      break;
    case 5:
      skip = 4;
      break;
    default:  // Groups: protobuf keeps them as unknown fields; not here.
      *ok = false;
      return false;
  }
  *ok = skip <= in->size();
  if (!*ok) return false;
  *payload = in->substr(0, skip);
  in->remove_prefix(skip);
  return true;
}

// Calls found(payload) for each occurrence of field `wanted`, in order.
// False when the message is cut short or `wanted` comes with another wire
// type (protobuf would not take that one as the field).
template <typename Found>
bool ForEachOccurrence(std::string_view message, uint32_t wanted, Found found) {
  uint32_t field = 0;
  int type = 0;
  std::string_view payload;
  bool ok = true;
  while (NextField(&message, &field, &type, &payload, &ok)) {
    if (field != wanted) continue;
    if (type != kLengthDelimited) return false;
    found(payload);
  }
  return ok;
}

// The payload of `wanted` when it appears exactly once.
bool FindOnce(std::string_view message, uint32_t wanted, std::string_view* found) {
  int seen = 0;
  return ForEachOccurrence(message, wanted,
                           [&](std::string_view payload) {
                             *found = payload;
                             ++seen;
                           }) &&
         seen == 1;
}

}  // namespace

bool FindCallBytes(std::string_view request, std::string_view* call) {
  // The usual frame is the id, then the call, and nothing after it: taken
  // without the general walk (this runs for every call while a state dir
  // is in use).
  constexpr char kIdTag = 1 << 3;  // Request.id, a varint.
  constexpr char kCallTag = (kRequestCall << 3) | kLengthDelimited;
  std::string_view in = request;
  uint64_t value = 0;
  if (!in.empty() && in.front() == kIdTag) {
    in.remove_prefix(1);
    if (ReadVarint(&in, &value) && !in.empty() && in.front() == kCallTag) {
      in.remove_prefix(1);
      if (ReadVarint(&in, &value) && value == in.size()) {
        *call = in;
        return true;
      }
    }
  }
  return FindOnce(request, kRequestCall, call);
}

bool FindBatchCallBytes(std::string_view request,
                        std::vector<std::string_view>* calls) {
  calls->clear();
  std::string_view batch;
  return FindOnce(request, kRequestBatch, &batch) &&
         ForEachOccurrence(batch, kBatchCalls,
                           [&](std::string_view call) { calls->push_back(call); });
}

}  // namespace ipcd
