// Redis Cluster's key slots: which of the 16384 slots a key belongs to
// (CRC16 of its hash tag, as the cluster specification defines it), and
// the map of slots to the masters serving them, read from CLUSTER SLOTS.
//
// Thread safety: pure functions and a value type.
#ifndef IPC_SRC_MANAGER_REDIS_CLUSTER_SLOTS_H_
#define IPC_SRC_MANAGER_REDIS_CLUSTER_SLOTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/result.h"
#include "manager/redis/redis_client.h"

namespace ipc::internal {

inline constexpr int kRedisSlots = 16384;

// The slot of key: of the part between its first '{' and the next '}'
// when that part is not empty, else of the whole key.
int RedisKeySlot(std::string_view key);

// Which master serves each slot.
class RedisSlotMap {
 public:
  // From a CLUSTER SLOTS reply; kProtocolError when it is not one.
  static Result<RedisSlotMap> Parse(const RedisReply& reply);

  // "host:port" of the master serving slot; "" when none does.
  const std::string& MasterOf(int slot) const;
  // Every master, once each.
  const std::vector<std::string>& masters() const { return masters_; }
  // Moves slot to node (a MOVED reply).
  void Move(int slot, const std::string& node);

 private:
  std::vector<std::string> masters_;
  std::array<uint16_t, kRedisSlots> owner_{};  // Index into masters_ + 1; 0 = none.
};

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_CLUSTER_SLOTS_H_
