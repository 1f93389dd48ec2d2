// The Redis backend's script (manager.lua, built in as text) and loading
// it into a server.
//
// Thread safety: LoadRedisScript as the client it is given.
#ifndef IPC_SRC_MANAGER_REDIS_SCRIPT_H_
#define IPC_SRC_MANAGER_REDIS_SCRIPT_H_

#include <string>
#include <string_view>

#include "ipc/result.h"
#include "manager/redis/call_codec.h"
#include "manager/redis/redis_client.h"

namespace ipc::internal {

// manager.lua's text.
std::string_view RedisManagerScript();

// SCRIPT LOAD on client; returns the script's SHA1 for EVALSHA.
Result<std::string> LoadRedisScript(RedisClient& client, Deadline deadline);

// EVALSHA sha with args; a NOSCRIPT reply (the server restarted or flushed
// its scripts) loads the script and runs it once more, which is safe:
// NOSCRIPT means nothing ran. Other error replies are kProtocolError
// naming the server's words.
Result<RedisReply> EvalRedisScript(RedisClient& client, std::string* sha,
                                   const RedisScriptArgs& args, Deadline deadline);

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_SCRIPT_H_
