#include "loop/shm_upgrades.h"

#include "manager/auth.h"

namespace ipcd {

ipc::Result<std::string> ShmUpgrades::Issue(uint64_t session_id) {
  IPC_ASSIGN_OR_RETURN(std::string token, ipc::internal::MakeAuthNonce());
  Forget(session_id);
  by_token_.emplace(token, session_id);
  by_session_.emplace(session_id, token);
  return token;
}

bool ShmUpgrades::Redeem(std::string_view token) {
  auto it = by_token_.find(std::string(token));
  if (it == by_token_.end()) return false;
  by_session_.erase(it->second);
  by_token_.erase(it);
  return true;
}

void ShmUpgrades::Forget(uint64_t session_id) {
  auto it = by_session_.find(session_id);
  if (it == by_session_.end()) return;
  by_token_.erase(it->second);
  by_session_.erase(it);
}

}  // namespace ipcd
