// ipc::Manager: connecting, the proxy factories, and the requests about the
// daemon as a whole (ListObjects, GetStats, Destroy).
#include "ipc/manager.h"

#include <algorithm>
#include <iterator>

#include "ipc/url.h"
#include "manager/auth.h"
#include "manager/connection.h"
#include "manager/default_socket.h"
#include "manager/redis/redis_backend.h"
#include "manager/proxy_call.h"

namespace ipc {
namespace {

// The URL Connect uses for what the caller wrote: "" is the default socket,
// an absolute path is a unix socket (as ipcd's --socket takes one, so the
// same text works for both), and anything else must be a unix:// or tcp://
// URL, the only listeners ipcd has. A relative path is refused rather than
// resolved against the working directory, which differs between the
// processes that share a daemon.
Result<std::string> ManagerUrl(std::string_view url) {
  if (url.empty()) return Manager::DefaultUrl();
  if (url.front() == '/') return "unix://" + std::string(url);
  if (internal::RedisBackend::Handles(url)) return std::string(url);
  const std::string kForms =
      "expected unix:///path/to/ipcd.sock, an absolute socket path, "
      "tcp://host:port, shm://name, redis://host:port or redis+unix:///path";
  Result<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) {
    // ParseUrl names the URL and what is wrong with it; a word without a
    // scheme, though, is most likely a relative path, so say what works.
    if (url.find(':') != std::string_view::npos) {
      return parsed.status().WithContext("ipcd");
    }
    return Status(ErrorCode::kInvalidArgument,
                  "ipcd URL \"" + std::string(url) +
                      "\": not a URL or an absolute path; " + kForms);
  }
  if (parsed->scheme != "unix" && parsed->scheme != "tcp" && parsed->scheme != "shm") {
    return Status(ErrorCode::kInvalidArgument,
                  "ipcd URL \"" + std::string(url) + "\": ipcd does not listen on " +
                      parsed->scheme + ":; " + kForms);
  }
  return std::string(url);
}

}  // namespace

Result<Manager> Manager::Connect(std::string_view url, ManagerOptions options) {
  IPC_ASSIGN_OR_RETURN(const std::string target, ManagerUrl(url));
  IPC_ASSIGN_OR_RETURN(auto connection,
                       internal::ManagerConnection::Open(target, options));
  return Manager(std::move(connection));
}

std::string Manager::DefaultUrl() {
  return "unix://" + internal::ClientSocketPath();
}

Result<std::string> Manager::ReadAuthKeyFile(const std::string& path) {
  return internal::ReadAuthKeyFile(path);
}

DictProxy Manager::Dict(std::string name) const {
  return DictProxy(connection_, std::move(name));
}
CounterProxy Manager::Counter(std::string name) const {
  return CounterProxy(connection_, std::move(name));
}
LockProxy Manager::Lock(std::string name) const {
  return LockProxy(connection_, std::move(name), /*recursive=*/false);
}
LockProxy Manager::RLock(std::string name) const {
  return LockProxy(connection_, std::move(name), /*recursive=*/true);
}
QueueProxy Manager::Queue(std::string name) const {
  return QueueProxy(connection_, std::move(name));
}
EventProxy Manager::Event(std::string name) const {
  return EventProxy(connection_, std::move(name));
}
ListProxy Manager::List(std::string name) const {
  return ListProxy(connection_, std::move(name));
}
SemaphoreProxy Manager::Semaphore(std::string name) const {
  return SemaphoreProxy(connection_, std::move(name), /*bounded=*/false);
}
SemaphoreProxy Manager::BoundedSemaphore(std::string name) const {
  return SemaphoreProxy(connection_, std::move(name), /*bounded=*/true);
}
ValueProxy Manager::Value(std::string name) const {
  return ValueProxy(connection_, std::move(name));
}
NamespaceProxy Manager::Namespace(std::string name) const {
  return NamespaceProxy(connection_, std::move(name));
}
BarrierProxy Manager::Barrier(std::string name) const {
  return BarrierProxy(connection_, std::move(name));
}
ManagerBatch Manager::Batch() const { return ManagerBatch(connection_); }

Result<ObjectPage> Manager::ListObjectsPage(const ListObjectsOptions& options) const {
  ObjectPage page;
  IPC_RETURN_IF_ERROR(connection_->Exchange(
      [&](ipcd::v1::Request& request) {
        ipcd::v1::ListObjects* list = request.mutable_list_objects();
        list->set_prefix(options.prefix);
        list->set_after(options.after);
        list->set_limit(options.limit);
      },
      [&](const ipcd::v1::Response& response) {
        page.objects.reserve(response.objects().objects_size());
        for (const ipcd::v1::ObjectInfo& info : response.objects().objects()) {
          page.objects.push_back(ManagedObject{
              .name = info.name(),
              .kind = std::string(internal::KindName(info.kind())),
              .size = info.size(),
              .bytes = info.bytes(),
              .waiters = info.waiters(),
          });
        }
        page.next = response.objects().next();
        return Status::Ok();
      }));
  return page;
}

Result<std::vector<ManagedObject>> Manager::ListObjects(std::string_view prefix) const {
  std::vector<ManagedObject> out;
  ListObjectsOptions options{.prefix = std::string(prefix)};
  for (;;) {
    IPC_ASSIGN_OR_RETURN(ObjectPage page, ListObjectsPage(options));
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(out));
    // A next that does not move forward would loop forever: a daemon bug
    // or a hostile peer, reported rather than followed.
    if (page.next.empty()) return out;
    if (page.next <= options.after) {
      return Status(ErrorCode::kProtocolError,
                    "ipcd's object list did not move past '" + options.after + "'");
    }
    options.after = std::move(page.next);
  }
}

Result<ManagerStats> Manager::Stats() const {
  ManagerStats out;
  IPC_RETURN_IF_ERROR(connection_->Exchange(
      [](ipcd::v1::Request& request) { request.mutable_get_stats(); },
      [&](const ipcd::v1::Response& response) {
        const ipcd::v1::Stats& s = response.stats();
        out = ManagerStats{
            .server_version = s.server_version(),
            .uptime_ms = s.uptime_ms(),
            .clients = s.clients(),
            .objects = s.objects(),
            .bytes_held = s.bytes_held(),
            .requests_total = s.requests_total(),
            .parked = s.parked(),
            .pending = s.pending(),
            .watches = s.watches(),
            .max_frame_bytes = s.limits().max_frame_bytes(),
            .max_clients = s.limits().max_clients(),
            .max_pending_per_client = s.limits().max_pending_per_client(),
            .max_objects = s.limits().max_objects(),
            .max_bytes = s.limits().max_bytes(),
        };
        if (s.has_persistence()) {
          const ipcd::v1::Persistence& p = s.persistence();
          out.persistence = ManagerPersistence{
              .state_dir = p.state_dir(),
              .fsync = p.fsync(),
              .log_bytes = p.log_bytes(),
              .records_since_snapshot = p.records_since_snapshot(),
              .snapshot_bytes = p.snapshot_bytes(),
              .last_sync_unix_ms = p.last_sync_unix_ms(),
              .last_snapshot_unix_ms = p.last_snapshot_unix_ms(),
              .snapshot_running = p.snapshot_running(),
              .last_write_error = p.last_write_error(),
              .last_seq = p.last_seq(),
          };
        }
        return Status::Ok();
      }));
  return out;
}

Status Manager::Destroy(std::string_view name) const {
  return internal::RunCall(*connection_, std::string(name),
                           ipcd::v1::KIND_UNSPECIFIED, ipcd::v1::DESTROY,
                           internal::NoArguments, internal::IgnoreResult);
}

const std::string& Manager::url() const { return connection_->url(); }

std::string Manager::channel_url() const { return connection_->channel_url(); }

void Manager::Close() const { connection_->Close(); }

}  // namespace ipc
