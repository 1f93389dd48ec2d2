#include "manager/redis/script.h"

#include <vector>

namespace ipc::internal {

extern const char kRedisManagerLua[];  // redis_script_text.cc, made by CMake.

std::string_view RedisManagerScript() { return kRedisManagerLua; }

Result<std::string> LoadRedisScript(RedisClient& client, Deadline deadline) {
  IPC_ASSIGN_OR_RETURN(RedisReply r,
                       client.Command({"SCRIPT", "LOAD", RedisManagerScript()}, deadline));
  if (r.type != RedisReply::Type::kString) {
    return Status(ErrorCode::kProtocolError, "redis: SCRIPT LOAD refused: " + r.str);
  }
  return r.str;
}

Result<RedisReply> EvalRedisScript(RedisClient& client, std::string* sha,
                                   const RedisScriptArgs& args, Deadline deadline) {
  const std::string nkeys = std::to_string(args.keys.size());
  std::vector<std::string_view> command;
  command.reserve(3 + args.keys.size() + args.argv.size());
  command.push_back("EVALSHA");
  command.push_back(*sha);
  command.push_back(nkeys);
  for (const std::string& k : args.keys) command.push_back(k);
  for (const std::string& a : args.argv) command.push_back(a);
  for (int attempt = 0;; ++attempt) {
    command[1] = *sha;
    IPC_ASSIGN_OR_RETURN(RedisReply r, client.Command(command, deadline));
    if (r.type != RedisReply::Type::kError) return r;
    if (attempt == 0 && r.str.rfind("NOSCRIPT", 0) == 0) {
      IPC_ASSIGN_OR_RETURN(*sha, LoadRedisScript(client, deadline));
      continue;
    }
    // A full server (maxmemory with noeviction) refuses writes: a limit,
    // as ipcd's max_bytes is.
    const bool full = r.str.rfind("OOM", 0) == 0;
    return Status(full ? ErrorCode::kResourceExhausted : ErrorCode::kProtocolError,
                  "redis: the script failed: " + r.str);
  }
}

}  // namespace ipc::internal
