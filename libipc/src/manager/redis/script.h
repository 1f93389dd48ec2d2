// The Redis backend's script (manager.lua, built in as text) and its SHA1,
// the name EVALSHA runs it by.
//
// Thread safety: pure functions.
#ifndef IPC_SRC_MANAGER_REDIS_SCRIPT_H_
#define IPC_SRC_MANAGER_REDIS_SCRIPT_H_

#include <string_view>

namespace ipc::internal {

std::string_view RedisManagerScript();
// Hex, as SCRIPT LOAD answers.
std::string_view RedisManagerScriptSha();

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_SCRIPT_H_
