#include "manager/redis/cluster_slots.h"

#include <algorithm>

namespace ipc::internal {
namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis
// Cluster uses.
uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

Status NotSlots(const std::string& why) {
  return Status(ErrorCode::kProtocolError, "redis: CLUSTER SLOTS: " + why);
}

}  // namespace

int RedisKeySlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kRedisSlots;
}

Result<RedisSlotMap> RedisSlotMap::Parse(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kArray) return NotSlots("not an array (" + reply.str + ")");
  RedisSlotMap map;
  for (const RedisReply& range : reply.elements) {
    const auto& e = range.elements;
    if (range.type != RedisReply::Type::kArray || e.size() < 3 ||
        e[0].type != RedisReply::Type::kInteger || e[1].type != RedisReply::Type::kInteger ||
        e[2].elements.size() < 2 || e[2].elements[1].type != RedisReply::Type::kInteger) {
      return NotSlots("a range of an unknown form");
    }
    const int64_t first = e[0].integer, last = e[1].integer;
    if (first < 0 || last >= kRedisSlots || first > last) return NotSlots("a range out of bounds");
    const std::string node =
        e[2].elements[0].str + ":" + std::to_string(e[2].elements[1].integer);
    auto it = std::find(map.masters_.begin(), map.masters_.end(), node);
    if (it == map.masters_.end()) it = map.masters_.insert(map.masters_.end(), node);
    const auto index = static_cast<uint16_t>(it - map.masters_.begin() + 1);
    std::fill(map.owner_.begin() + first, map.owner_.begin() + last + 1, index);
  }
  return map;
}

const std::string& RedisSlotMap::MasterOf(int slot) const {
  static const std::string kNone;
  const uint16_t index = owner_[static_cast<size_t>(slot)];
  return index == 0 ? kNone : masters_[index - 1];
}

void RedisSlotMap::Move(int slot, const std::string& node) {
  auto it = std::find(masters_.begin(), masters_.end(), node);
  if (it == masters_.end()) it = masters_.insert(masters_.end(), node);
  owner_[static_cast<size_t>(slot)] = static_cast<uint16_t>(it - masters_.begin() + 1);
}

}  // namespace ipc::internal
