// Server start-up (see server.h): turning Options into listeners, the
// epoll set and the signalfd.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/log.h"
#include "daemon/systemd.h"
#include "loop/server.h"
#include "manager/auth.h"
#include "manager/default_socket.h"

namespace ipcd {
namespace {

using ipc::ErrorCode;
using ipc::Status;

// Creates dir and its missing parents with mode 0750; an existing directory
// is left as it is.
Status MakeSocketDirectory(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status(ErrorCode::kInvalidArgument,
                  dir + ": exists and is not a directory");
  }
  const size_t slash = dir.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    IPC_RETURN_IF_ERROR(MakeSocketDirectory(dir.substr(0, slash)));
  }
  if (::mkdir(dir.c_str(), 0750) < 0 && errno != EEXIST) {
    return ipc::ErrnoStatus("creating socket directory " + dir, errno);
  }
  // mkdir applies the umask; the mode is part of the security model.
  (void)::chmod(dir.c_str(), 0750);
  return Status::Ok();
}

// "tcp://:7070" listens on loopback; a given host is used as is.
std::string NormalizeTcpUrl(const std::string& url) {
  if (url.rfind("tcp://:", 0) == 0) return "tcp://127.0.0.1:" + url.substr(7);
  return url;
}

// Adds key=value to url's query unless the URL sets key itself.
std::string WithOption(std::string url, std::string_view key,
                       const std::string& value) {
  const std::string needle = std::string(key) + "=";
  const size_t query = url.find('?');
  if (query != std::string::npos &&
      (url.find("?" + needle) != std::string::npos ||
       url.find("&" + needle) != std::string::npos)) {
    return url;  // Given explicitly.
  }
  url += query == std::string::npos ? "?" : "&";
  url += needle + value;
  return url;
}

// Raises the open-file limit to its hard maximum, so max_clients rather
// than EMFILE is what bounds connections.
void RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

Server::Server(const Options& options)
    : options_(options),
      limits_(options.limits),
      store_(options.limits),
      dispatcher_(&store_, this) {
  server_version_ = std::string("ipcd ") + IPCD_VERSION;
}

Server::~Server() {
  journal_.reset();
  if (state_lock_fd_ >= 0) ::close(state_lock_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status Server::AddListener(const std::string& url, bool needs_auth,
                           bool inherited, bool upgrade_only) {
  IPC_ASSIGN_OR_RETURN(ipc::Listener listener, ipc::Listen(url));
  auto entry = std::make_unique<ListenerEntry>();
  entry->listener = std::move(listener);
  entry->needs_auth = needs_auth;
  entry->upgrade_only = upgrade_only;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = static_cast<Pollable*>(entry.get());
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, entry->listener.fd(), &ev) < 0) {
    return ipc::ErrnoStatus("epoll_ctl", errno);
  }
  LogInfo("listening on " + entry->listener.url() +
          (inherited ? " (socket passed by the service manager)" : "") +
          (needs_auth ? " (authentication required)" : "") +
          (upgrade_only ? " (for unix socket clients moving to shared memory)" : ""));
  listeners_.push_back(std::move(entry));
  return Status::Ok();
}

Status Server::AddUpgradeListener(const std::string& max_message) {
  // A fresh name: a restarted daemon never meets a client of its
  // predecessor there. Anyone may reach an abstract name, so the listener
  // admits every user (mode 0666) and the token decides.
  IPC_ASSIGN_OR_RETURN(std::string random, ipc::internal::MakeAuthNonce());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "ipcd-" + std::to_string(::getpid()) + "-";
  for (int i = 0; i < 6; ++i) name += kHex[static_cast<uint8_t>(random[i]) & 15];
  IPC_RETURN_IF_ERROR(AddListener("shm://" + name + "?mode=0666&max_message=" + max_message,
                                  /*needs_auth=*/false, /*inherited=*/false,
                                  /*upgrade_only=*/true));
  // Clients connect with a smaller ring than the 1 MiB default: requests
  // and responses are small, and each client's segment is its own.
  upgrades_.set_url("shm://" + name + "?capacity=256K&max_message=" + max_message);
  return Status::Ok();
}

ipc::Result<std::unique_ptr<Server>> Server::Create(const Options& options) {
  std::unique_ptr<Server> server(new Server(options));
  const std::string max_message =
      std::to_string(options.limits.max_frame_bytes);

  // Work out every listener before creating any, so a configuration error
  // leaves nothing behind.
  struct Planned {
    std::string url;
    bool needs_auth;
    bool inherited = false;
  };
  std::vector<Planned> planned;
  IPC_ASSIGN_OR_RETURN(std::vector<InheritedListener> inherited,
                       InheritedListeners());
  for (const InheritedListener& l : inherited) {
    planned.push_back(
        {WithOption(l.url, "max_message", max_message), l.is_tcp, true});
  }
  for (const std::string& given : options.listen) {
    std::string url = NormalizeTcpUrl(given);
    const bool tcp = url.rfind("tcp://", 0) == 0;
    const bool shm = url.rfind("shm://", 0) == 0;
    if (!tcp && !shm && url.rfind("unix://", 0) != 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "--listen " + given +
                        ": only unix://, tcp:// and shm:// are supported");
    }
    // A socket file's mode; an shm:// listener admits only its own user
    // (or the ?mode= given) by the peer's credentials.
    if (!tcp && !shm && url.rfind("unix://@", 0) != 0)
      url = WithOption(url, "mode", "0660");
    planned.push_back({WithOption(url, "max_message", max_message), tcp});
  }
  // The unix socket comes last: once a client can connect to it, every
  // other listener is up too.
  std::string socket_dir;
  if (inherited.empty()) {
    const std::string path = options.socket.empty()
                                 ? ipc::internal::DaemonSocketPath()
                                 : options.socket;
    if (path.empty() || path[0] != '/') {
      return Status(ErrorCode::kInvalidArgument,
                    "socket path must be absolute, not '" + path + "'");
    }
    socket_dir = path.substr(0, path.rfind('/'));
    planned.push_back(
        {"unix://" + path + "?mode=0660&max_message=" + max_message, false});
  }
  bool any_auth = false;
  for (const Planned& p : planned) {
    if (p.needs_auth && options.authkey_file.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "refusing to listen on " + p.url +
                        " without a key: tcp:// listeners need --authkey-file");
    }
    any_auth |= p.needs_auth;
  }
  if (any_auth) {
    auto key = ipc::internal::ReadAuthKeyFile(options.authkey_file);
    if (!key.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    "--authkey-file: " + key.status().message());
    }
    server->auth_key_ = std::move(*key);
  }

  // The state is whole before any listener exists: no client ever sees it
  // half restored.
  IPC_RETURN_IF_ERROR(server->OpenState());
  RaiseFileLimit();
  server->CheckFileLimit();
  ::signal(SIGPIPE, SIG_IGN);
  server->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (server->epoll_fd_ < 0) return ipc::ErrnoStatus("epoll_create1", errno);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGCHLD);  // A snapshot writer finished.
  if (::sigprocmask(SIG_BLOCK, &signals, nullptr) < 0) {
    return ipc::ErrnoStatus("sigprocmask", errno);
  }
  server->signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (server->signal_fd_ < 0) return ipc::ErrnoStatus("signalfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &server->signal_pollable_;
  if (::epoll_ctl(server->epoll_fd_, EPOLL_CTL_ADD, server->signal_fd_, &ev) <
      0) {
    return ipc::ErrnoStatus("epoll_ctl", errno);
  }

  IPC_RETURN_IF_ERROR(MakeSocketDirectory(socket_dir));
  bool any_unix = false;
  for (const Planned& p : planned) any_unix |= p.url.rfind("unix://", 0) == 0;
  if (options.shm_upgrade && any_unix) {
    IPC_RETURN_IF_ERROR(server->AddUpgradeListener(max_message));
  }
  for (const Planned& p : planned) {
    IPC_RETURN_IF_ERROR(server->AddListener(p.url, p.needs_auth, p.inherited));
  }
  server->watchdog_interval_ = WatchdogPingInterval();
  return server;
}

}  // namespace ipcd
