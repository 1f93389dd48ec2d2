// Server's handshake (see server.h): the Hello, the Authenticate that a
// keyed listener requires, and the move of a unix socket's client to shared
// memory (loop/shm_upgrades.h). Nothing but Hello and Authenticate is
// decoded before it is done (loop/preauth.h).
#include "daemon/log.h"
#include "loop/preauth.h"
#include "loop/server.h"
#include "manager/auth.h"

namespace ipcd {
namespace {

constexpr uint32_t kProtocolVersion = v1::PROTOCOL_VERSION_CURRENT;

}  // namespace

void Server::OnHandshakeFrame(Session* s, const std::string& bytes) {
  const bool want_hello = s->state == Session::State::kHello;
  PreAuthFrame frame;
  // On sockets PeekFrameHeader refuses larger frames before they are
  // read; other channels (shm://) deliver them whole, and here they stop.
  if (bytes.size() > kMaxPreAuthFrame) {
    RespondError(s, 0, v1::MESSAGE_TOO_LARGE,
                 "a frame of " + std::to_string(bytes.size()) +
                     " bytes before the handshake finished (at most " +
                     std::to_string(kMaxPreAuthFrame) + "); closing");
    BeginClosing(s);
    return;
  }
  if (!ParsePreAuthFrame(bytes, &frame)) {
    RespondError(s, 0, v1::PROTOCOL_ERROR,
                 std::string("an unparsable frame before the handshake "
                             "finished (expected ") +
                     (want_hello ? "Hello" : "Authenticate") + "); closing");
    BeginClosing(s);
    return;
  }
  if (frame.id == 0) {
    RespondError(s, 0, v1::PROTOCOL_ERROR, std::string(kIdZero) + "; closing");
    BeginClosing(s);
    return;
  }
  if (want_hello) {
    v1::Hello hello;
    if (frame.body_field != v1::Request::kHello ||
        !hello.ParseFromString(frame.body)) {
      RespondError(
          s, frame.id, v1::PROTOCOL_ERROR,
          "the first request on a connection must be a Hello; closing");
      BeginClosing(s);
      return;
    }
    if (hello.protocol_version() != kProtocolVersion) {
      RespondError(s, frame.id, v1::UNSUPPORTED,
                   "protocol version " +
                       std::to_string(hello.protocol_version()) +
                       " is not supported; this daemon speaks version " +
                       std::to_string(kProtocolVersion) + "; closing");
      BeginClosing(s);
      return;
    }
    if (!hello.client_nonce().empty() &&
        hello.client_nonce().size() != ipc::internal::kAuthNonceSize) {
      RespondError(s, frame.id, v1::PROTOCOL_ERROR,
                   "Hello.client_nonce must be empty or " +
                       std::to_string(ipc::internal::kAuthNonceSize) +
                       " bytes, not " +
                       std::to_string(hello.client_nonce().size()) +
                       "; closing");
      BeginClosing(s);
      return;
    }
    if (s->upgrade_only && !upgrades_.Redeem(hello.shm_token())) {
      RespondError(s, frame.id, v1::PERMISSION_DENIED,
                   "this listener takes only clients moving from the daemon's "
                   "unix socket, and Hello.shm_token is missing, unknown or "
                   "used; closing");
      LogWarning("session " + std::to_string(s->id) + " (" + s->peer +
                 ") refused on the shm upgrade listener: no valid token");
      BeginClosing(s);
      return;
    }
    s->client_name = hello.client_name();
    s->client_nonce = hello.client_nonce();
    v1::Response response;
    response.set_id(frame.id);
    v1::HelloReply* reply = response.mutable_hello();
    reply->set_protocol_version(kProtocolVersion);
    reply->set_server_version(server_version_);
    reply->set_session_id(s->id);
    if (hello.want_shm() && upgrades_.enabled() &&
        s->channel.capabilities().scheme == "unix") {
      auto token = upgrades_.Issue(s->id);
      if (token.ok()) {
        reply->set_shm_url(upgrades_.url());
        reply->set_shm_token(std::move(*token));
      } else {
        LogWarning("no shm upgrade for session " + std::to_string(s->id) + ": " +
                   token.status().ToString());
      }
    }
    if (s->needs_auth) {
      auto nonce = ipc::internal::MakeAuthNonce();
      if (!nonce.ok()) {
        RespondError(s, frame.id, v1::INTERNAL, nonce.status().ToString());
        BeginClosing(s);
        return;
      }
      s->server_nonce = std::move(*nonce);
      reply->set_auth_required(true);
      reply->set_server_nonce(s->server_nonce);
      s->state = Session::State::kAuth;
    } else {
      HandshakeDone(s);
    }
    Respond(s, response);
    LogDebug("session " + std::to_string(s->id) + " is '" + s->client_name +
             "'");
    return;
  }
  // Authenticating: only an Authenticate is looked at.
  auto refuse = [&](const std::string& reply, const std::string& log) {
    RespondError(s, frame.id, v1::PERMISSION_DENIED, reply);
    LogWarning("session " + std::to_string(s->id) + " (" + s->peer + ") " + log);
    BeginClosing(s);
  };
  v1::Authenticate auth;
  if (frame.body_field != v1::Request::kAuthenticate ||
      !auth.ParseFromString(frame.body)) {
    refuse(
        "authentication required: this listener accepts nothing before "
        "a successful Authenticate; closing",
        "sent a request before authenticating; closed");
    return;
  }
  const std::string expected =
      ipc::internal::ClientProof(auth_key_, s->server_nonce, s->client_nonce);
  if (!ipc::internal::ProofsEqual(expected, auth.client_proof())) {
    refuse(
        "authentication failed: the client's proof does not match this "
        "daemon's key (wrong key?); closing",
        "failed authentication: wrong key");
    return;
  }
  v1::Response response;
  response.set_id(frame.id);
  v1::AuthReply* reply = response.mutable_auth();
  if (!s->client_nonce.empty()) {
    reply->set_server_proof(ipc::internal::ServerProof(
        auth_key_, s->client_nonce, s->server_nonce));
  }
  HandshakeDone(s);
  Respond(s, response);
  LogInfo("session " + std::to_string(s->id) + " authenticated");
}

}  // namespace ipcd
