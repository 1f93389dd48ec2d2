#include "manager/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace ipc::internal {
namespace {

std::string Hmac(std::string_view key, std::string_view label,
                 std::string_view first, std::string_view second) {
  std::string data;
  data.reserve(label.size() + first.size() + second.size());
  data.append(label).append(first).append(second);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
       &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

Result<std::string> MakeAuthNonce() {
  std::string nonce(kAuthNonceSize, '\0');
  size_t filled = 0;
  while (filled < nonce.size()) {
    const ssize_t n = ::getrandom(nonce.data() + filled, nonce.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("getrandom", errno);
    }
    filled += static_cast<size_t>(n);
  }
  return nonce;
}

std::string ClientProof(std::string_view key, std::string_view server_nonce,
                        std::string_view client_nonce) {
  return Hmac(key, "ipcd-v1 client", server_nonce, client_nonce);
}

std::string ServerProof(std::string_view key, std::string_view client_nonce,
                        std::string_view server_nonce) {
  return Hmac(key, "ipcd-v1 server", client_nonce, server_nonce);
}

bool ProofsEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> ReadAuthKeyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return ErrnoStatus("authentication key file " + path, errno);
  }
  if ((st.st_mode & 077) != 0) {
    return Status(ErrorCode::kPermissionDenied,
                  "authentication key file " + path +
                      " may be read by others; chmod 600 it");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return Status(ErrorCode::kInvalidArgument,
                  "authentication key file " + path + " cannot be read");
  }
  std::string key = text.str();
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (key.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "authentication key file " + path + " is empty");
  }
  return key;
}

}  // namespace ipc::internal
