#include "manager/redis/script.h"

#include <openssl/sha.h>

#include <string>

namespace ipc::internal {

extern const char kRedisManagerLua[];  // redis_script_text.cc, made by CMake.

namespace {

struct Library {
  std::string name;
  std::string code;
};

const Library& TheLibrary() {
  static const Library library = [] {
    const std::string_view text = kRedisManagerLua;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    static const char kHex[] = "0123456789abcdef";
    Library out;
    out.name = "ipc_";
    for (unsigned char b : digest) {
      out.name += kHex[b >> 4];
      out.name += kHex[b & 15];
    }
    out.code = "#!lua name=" + out.name + "\nlocal FUNCTION_NAME = '" + out.name + "'\n";
    out.code += text;
    return out;
  }();
  return library;
}

}  // namespace

std::string_view RedisManagerLibrary() { return TheLibrary().code; }
std::string_view RedisManagerFunction() { return TheLibrary().name; }

}  // namespace ipc::internal
