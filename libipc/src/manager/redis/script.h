// The Redis backend's function library (lua/*.lua, built in as text): the
// code FUNCTION LOAD takes and the function name FCALL runs, both made from
// the text's SHA1, so clients built from other versions of it each run
// their own.
//
// Thread safety: pure functions.
#ifndef IPC_SRC_MANAGER_REDIS_SCRIPT_H_
#define IPC_SRC_MANAGER_REDIS_SCRIPT_H_

#include <string_view>

namespace ipc::internal {

// "#!lua name=ipc_<sha1>" and the text, for FUNCTION LOAD.
std::string_view RedisManagerLibrary();
// "ipc_<sha1>", for FCALL.
std::string_view RedisManagerFunction();

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_REDIS_SCRIPT_H_
