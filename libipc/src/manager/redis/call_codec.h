// The Redis backend's translation of ipcd Calls to the arguments of its
// function library (lua/*.lua), and of its replies back to ipcd Results.
// lua/base.lua's header describes both layouts; this file is their only
// C++ reader and writer.
//
// Checks made here rather than in the function, because they need the
// Value itself: a bad object name, text that is not UTF-8, a value nested
// too deep, a priority or semaphore count past 2^53, arguments ipcd
// requires. Such a call still goes to the function, carrying its error, so
// a batch's replies stay one per call.
//
// Thread safety: pure functions.
#ifndef IPC_SRC_MANAGER_REDIS_CALL_CODEC_H_
#define IPC_SRC_MANAGER_REDIS_CALL_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ipc/status.h"
#include "manager/redis/redis_client.h"
#include "proto/ipcd.pb.h"

namespace ipc::internal {

// The client's own script operations (beside ipcd's Ops).
inline constexpr int kRedisOpRenew = 100;       // Extend this client's lease.
inline constexpr int kRedisOpReleaseAll = 101;  // Give back every hold.
inline constexpr int kRedisOpInfo = 102;        // What ListObjects shows.
inline constexpr int kRedisOpGiveUp = 103;      // A waiter leaves the line.

// The hash tag every key of object name lives under: "{ipc:NAME}".
std::string RedisObjectPrefix(std::string_view name);
// The object's shard channel, published to when a waiter may go on.
std::string RedisWakeChannel(std::string_view name);
// The object name of a "{ipc:NAME}:k" key; empty for another key.
std::string RedisNameOfMetaKey(std::string_view key);

// One script run: KEYS (one prefix per object) and ARGV.
struct RedisScriptArgs {
  std::vector<std::string> keys;
  std::vector<std::string> argv;

  // Starts a run for this client's token and lease.
  RedisScriptArgs(std::string_view token, int64_t lease_ms);
  // Adds call; state is "" on a first try, else the block state the
  // previous try returned. op overrides call.op() when not 0 (the
  // client's own operations). may_wait: the caller will wait and retry if
  // the call cannot complete now (false in a batch and for timeout 0).
  void Add(const ipcd::v1::Call& call, std::string_view state = "", int op = 0,
           bool may_wait = true);
  int calls() const { return calls_; }

 private:
  // KEYS' 1-based index of object name's prefix, added when new.
  size_t KeyIndex(std::string_view name);
  std::unordered_map<std::string, size_t> key_index_;  // Prefix -> index.
  int calls_ = 0;
};

// What a call's reply says beyond its Status and Result.
struct RedisFlow {
  // A lock or semaphore this call left this client holding ("" none).
  std::string held;
  // A give-up's reply that is the call's answer (not just "timed out").
  bool final = false;

  // Set when the script could not finish the call yet: wait, then try it
  // again with state; when the deadline passes, answer timeout_code.
  ipcd::v1::Code timeout_code = ipcd::v1::OK;  // OK: not blocked.
  std::string timeout_message;
  int64_t retry_ms = 0;  // Try again after this long even without a wake.
  std::string state;
  std::string channel;     // Wait on this channel, not the object's ("").
  bool unbounded = false;  // The call's deadline no longer applies.
  bool blocked() const { return timeout_code != ipcd::v1::OK; }
};

// Decodes one call's reply into *status and *result (for call's kind and
// op: KEYS/VALUES/ITEMS are sorted by key here) and *flow. kProtocolError
// when the reply is not what the script returns.
Status DecodeRedisCallReply(const ipcd::v1::Call& call, const RedisReply& reply,
                            ipcd::v1::Status* status, ipcd::v1::Result* result,
                            RedisFlow* flow);

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_CALL_CODEC_H_
