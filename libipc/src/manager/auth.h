// The ipcd challenge-response (see Authenticate and AuthReply in
// proto/ipcd.proto), shared by the client in libipc and the daemon: random
// nonces and the HMAC-SHA256 proofs each side computes from the shared key.
//
// Thread safety: pure functions.
#ifndef IPC_SRC_MANAGER_AUTH_H_
#define IPC_SRC_MANAGER_AUTH_H_

#include <string>
#include <string_view>

#include "ipc/result.h"

namespace ipc::internal {

inline constexpr size_t kAuthNonceSize = 32;

// kAuthNonceSize bytes from the kernel's random source.
Result<std::string> MakeAuthNonce();

// The client's proof: HMAC-SHA256(key, "ipcd-v1 client" + server_nonce +
// client_nonce).
std::string ClientProof(std::string_view key, std::string_view server_nonce,
                        std::string_view client_nonce);

// The daemon's proof: HMAC-SHA256(key, "ipcd-v1 server" + client_nonce +
// server_nonce).
std::string ServerProof(std::string_view key, std::string_view client_nonce,
                        std::string_view server_nonce);

// Compares two proofs in time independent of where they differ.
bool ProofsEqual(std::string_view a, std::string_view b);

// Reads a key file: its bytes with one trailing newline removed. Refuses an
// empty key, and a file that others than its owner may read ("chmod 600").
Result<std::string> ReadAuthKeyFile(const std::string& path);

}  // namespace ipc::internal

#endif  // IPC_SRC_MANAGER_AUTH_H_
