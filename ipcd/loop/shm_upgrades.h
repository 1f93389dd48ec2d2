// ShmUpgrades: the single-use tokens that let a client of the daemon's
// unix socket move to shared memory.
//
// A client that says Hello on a unix:// listener with want_shm gets the
// URL of the daemon's upgrade listener (shm://) and a token of 32 random
// bytes in its HelloReply. It connects there (the shm:// transport passes
// the client's memfd segment over the rendezvous socket) and says Hello
// with the token; the token is then used up. Tokens are handed out only
// over the unix socket, so only a process that could open that socket
// (its file mode is the daemon's access control) gets a session on the
// upgrade listener, whoever can reach the listener's abstract name. A
// token lives until it is used or the unix session that got it closes.
//
// Thread safety: the event loop's only.
#ifndef IPCD_LOOP_SHM_UPGRADES_H_
#define IPCD_LOOP_SHM_UPGRADES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ipc/result.h"

namespace ipcd {

class ShmUpgrades {
 public:
  // The URL clients connect to (set once its listener is up); empty when
  // upgrades are off.
  void set_url(std::string url) { url_ = std::move(url); }
  const std::string& url() const { return url_; }
  bool enabled() const { return !url_.empty(); }

  // A fresh token for session_id (replacing one it had).
  ipc::Result<std::string> Issue(uint64_t session_id);
  // True when token was issued and not used yet; it is used up.
  bool Redeem(std::string_view token);
  // The session closed: its token, if unused, is void.
  void Forget(uint64_t session_id);
  size_t outstanding() const { return by_token_.size(); }

 private:
  std::string url_;
  std::unordered_map<std::string, uint64_t> by_token_;
  std::unordered_map<uint64_t, std::string> by_session_;
};

}  // namespace ipcd

#endif  // IPCD_LOOP_SHM_UPGRADES_H_
