#include "manager/redis/script.h"

#include <openssl/sha.h>

#include <string>

namespace ipc::internal {

extern const char kRedisManagerLua[];  // redis_script_text.cc, made by CMake.

std::string_view RedisManagerScript() { return kRedisManagerLua; }

std::string_view RedisManagerScriptSha() {
  static const std::string sha = [] {
    const std::string_view script = RedisManagerScript();
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : digest) {
      hex += kHex[b >> 4];
      hex += kHex[b & 15];
    }
    return hex;
  }();
  return sha;
}

}  // namespace ipc::internal
