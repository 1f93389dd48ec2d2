// ipcctl's commands that talk to ipcd: ls, stats, counter, dict, queue.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands.h"
#include "ipc/manager.h"
#include "json_output.h"

namespace ipcctl {

ipc::Result<ipc::Manager> ConnectManager(const CommandLine& cl) {
  ipc::ManagerOptions options;
  options.client_name = "ipcctl";
  // A command makes a call or two: setting up a shared-memory channel
  // would cost more than it saves.
  options.shared_memory = false;
  if (!cl.authkey_file.empty()) {
    IPC_ASSIGN_OR_RETURN(options.authkey,
                         ipc::Manager::ReadAuthKeyFile(cl.authkey_file));
  } else if (const char* key = std::getenv("IPC_AUTHKEY"); key != nullptr) {
    // So that a script need not put the key on a command line, where
    // every user's ps shows it.
    options.authkey = key;
  }
  return ipc::Manager::Connect(cl.url, options);
}

bool ParseInt(const std::string& word, int64_t* out) {
  const ipc::Value value = ipc::Value::ParseWord(word);
  if (const int64_t* n = value.if_int()) {
    *out = *n;
    return true;
  }
  return false;
}

void PrintNamed(const CommandLine& cl, const char* kind,
                const std::string& name, const ipc::Value& value) {
  if (cl.json) {
    std::cout << JsonObject().Add(kind, name).Add("value", value).Text()
              << "\n";
  } else {
    std::cout << HumanValue(value) << "\n";
  }
}


int RunLs(const CommandLine& cl) {
  if (cl.args.size() > 1) return UsageError("ls takes at most a name prefix");
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto objects = manager->ListObjects(cl.args.empty() ? "" : cl.args[0]);
  if (!objects.ok()) return Fail(objects.status());
  if (cl.json) {
    PrintJsonArray(*objects, [](const ipc::ManagedObject& o) {
      return JsonObject()
          .Add("name", o.name)
          .Add("kind", o.kind)
          .Add("size", o.size)
          .Add("bytes", o.bytes)
          .Add("waiters", o.waiters);
    });
    return kExitOk;
  }
  if (objects->empty()) {
    std::cout << "no objects\n";
    return kExitOk;
  }
  std::printf("%-32s %-8s %12s %12s %8s\n", "NAME", "KIND", "SIZE", "BYTES",
              "WAITERS");
  for (const ipc::ManagedObject& o : *objects) {
    std::printf("%-32s %-8s %12lld %12lld %8lld\n", o.name.c_str(),
                o.kind.c_str(), static_cast<long long>(o.size),
                static_cast<long long>(o.bytes),
                static_cast<long long>(o.waiters));
  }
  return kExitOk;
}

int RunStats(const CommandLine& cl) {
  if (!cl.args.empty()) return UsageError("stats takes no arguments");
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto stats = manager->Stats();
  if (!stats.ok()) return Fail(stats.status());
  const ipc::ManagerStats& s = *stats;
  const std::pair<const char*, int64_t> numbers[] = {
      {"uptime_ms", s.uptime_ms},
      {"clients", s.clients},
      {"objects", s.objects},
      {"bytes_held", s.bytes_held},
      {"requests_total", s.requests_total},
      {"parked", s.parked},
      {"pending", s.pending},
      {"watches", s.watches},
      {"max_frame_bytes", s.max_frame_bytes},
      {"max_clients", s.max_clients},
      {"max_pending_per_client", s.max_pending_per_client},
      {"max_objects", s.max_objects},
      {"max_bytes", s.max_bytes},
  };
  // The state log, when the daemon keeps one ("state" is "memory" else).
  std::vector<std::pair<const char*, std::string>> texts = {
      {"url", manager->url()}, {"server_version", s.server_version}};
  std::vector<std::pair<const char*, int64_t>> state_numbers;
  if (s.persistence) {
    const ipc::ManagerPersistence& p = *s.persistence;
    texts.insert(texts.end(), {{"state_dir", p.state_dir},
                               {"fsync", p.fsync},
                               {"last_write_error", p.last_write_error}});
    state_numbers = {{"log_bytes", p.log_bytes},
                     {"records_since_snapshot", p.records_since_snapshot},
                     {"snapshot_bytes", p.snapshot_bytes},
                     {"last_sync_unix_ms", p.last_sync_unix_ms},
                     {"last_snapshot_unix_ms", p.last_snapshot_unix_ms},
                     {"snapshot_running", p.snapshot_running ? 1 : 0},
                     {"last_seq", p.last_seq}};
  } else {
    texts.push_back({"state_dir", ""});
  }
  if (cl.json) {
    JsonObject out;
    for (const auto& [key, value] : texts) out.Add(key, value);
    for (const auto& [key, value] : numbers) out.Add(key, value);
    for (const auto& [key, value] : state_numbers) out.Add(key, value);
    std::cout << out.Text() << "\n";
    return kExitOk;
  }
  for (const auto& [key, value] : texts) {
    const bool dir = std::string_view(key) == "state_dir";
    std::cout << key << ": "
              << (!value.empty() ? value
                  : dir          ? "(none: state in memory only)"
                                 : "(none)")
              << "\n";
  }
  for (const auto& [key, value] : numbers)
    std::cout << key << ": " << value << "\n";
  for (const auto& [key, value] : state_numbers)
    std::cout << key << ": " << value << "\n";
  return kExitOk;
}

int RunCounter(const CommandLine& cl) {
  const auto& a = cl.args;
  if (a.size() < 2) return UsageError("counter needs an action and a NAME");
  const std::string& action = a[0];
  const std::string& name = a[1];
  int64_t n = 1;
  if (action == "get" && a.size() == 2) {
  } else if (action == "add" && (a.size() == 2 || a.size() == 3)) {
    if (a.size() == 3 && !ParseInt(a[2], &n)) {
      return UsageError("counter add: '" + a[2] + "' is not a whole number");
    }
  } else if (action == "set" && a.size() == 3) {
    if (!ParseInt(a[2], &n)) {
      return UsageError("counter set: '" + a[2] + "' is not a whole number");
    }
  } else {
    return UsageError("usage: counter get|add|set NAME [N]");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto counter = manager->Counter(name);
  ipc::Result<int64_t> value =
      ipc::Status(ipc::ErrorCode::kInternal, "no action");
  if (action == "get") {
    value = counter.Get();
  } else if (action == "add") {
    value = counter.Add(n);
  } else if (ipc::Status set = counter.Set(n); set.ok()) {
    value = n;
  } else {
    value = set;
  }
  if (!value.ok()) return Fail(value.status());
  PrintNamed(cl, "counter", name, *value);
  return kExitOk;
}

int RunDict(const CommandLine& cl) {
  const auto& a = cl.args;
  if (a.size() < 2) return UsageError("dict needs an action and a NAME");
  const std::string& action = a[0];
  const std::string& name = a[1];
  if (!((action == "get" && a.size() == 3) ||
        (action == "set" && a.size() == 4) ||
        (action == "del" && a.size() == 3) ||
        (action == "items" && a.size() == 2))) {
    return UsageError(
        "usage: dict get NAME KEY | set NAME KEY VALUE | del NAME KEY | items "
        "NAME");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto dict = manager->Dict(name);
  if (action == "items") {
    auto items = dict.Items();
    if (!items.ok()) return Fail(items.status());
    if (cl.json) {
      std::cout << JsonObject().Add("dict", name).Add("items", *items).Text()
                << "\n";
    } else {
      for (const auto& [key, value] : *items) {
        std::cout << key << " = " << HumanValue(value) << "\n";
      }
    }
    return kExitOk;
  }
  const std::string& key = a[2];
  ipc::Value value;
  if (action == "get") {
    auto got = dict.Get(key);
    if (!got.ok()) return Fail(got.status());
    value = std::move(*got);
  } else if (action == "set") {
    value = ipc::Value::ParseWord(a[3]);
    if (ipc::Status set = dict.Set(key, value); !set.ok()) return Fail(set);
  } else {
    auto popped = dict.Pop(key);  // del: what was removed, for the record.
    if (!popped.ok()) return Fail(popped.status());
    value = std::move(*popped);
  }
  if (cl.json) {
    JsonObject out;
    out.Add("dict", name).Add("key", key).Add("value", value);
    if (action == "del") out.Add("deleted", true);
    std::cout << out.Text() << "\n";
  } else if (action == "get") {
    std::cout << HumanValue(value) << "\n";
  }
  return kExitOk;
}

namespace {

constexpr char kQueueUsage[] =
    "usage: queue create NAME CAPACITY [fifo|lifo|priority] | put NAME VALUE "
    "[PRIORITY] | get NAME | task-done NAME | join NAME  (get, join: [--timeout S])";

bool ParseOrder(const std::string& word, ipc::QueueOrder* order) {
  if (word == "fifo") *order = ipc::QueueOrder::kFifo;
  else if (word == "lifo") *order = ipc::QueueOrder::kLifo;
  else if (word == "priority") *order = ipc::QueueOrder::kPriority;
  else return false;
  return true;
}

}  // namespace

int RunQueue(const CommandLine& cl) {
  const auto& a = cl.args;
  if (a.size() < 2) return UsageError(kQueueUsage);
  const std::string& action = a[0];
  const std::string& name = a[1];
  const bool waits = action == "get" || action == "join";
  if (!((action == "create" && (a.size() == 3 || a.size() == 4)) ||
        (action == "put" && (a.size() == 3 || a.size() == 4)) ||
        ((waits || action == "task-done") && a.size() == 2))) {
    return UsageError(kQueueUsage);
  }
  if (cl.timeout_s && !waits) return UsageError("--timeout goes with queue get and join");
  int64_t number = 0;  // create's CAPACITY, put's PRIORITY.
  const std::string* number_word =
      action == "create" ? &a[2] : (action == "put" && a.size() == 4 ? &a[3] : nullptr);
  if (number_word != nullptr && !ParseInt(*number_word, &number)) {
    return UsageError("queue " + action + ": not a whole number: " + *number_word);
  }
  ipc::QueueOrder order = ipc::QueueOrder::kFifo;
  if (action == "create" && a.size() == 4 && !ParseOrder(a[3], &order)) {
    return UsageError("queue create: the order is fifo, lifo or priority, not " + a[3]);
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto queue = manager->Queue(name);
  if (action == "create") {
    if (ipc::Status made = queue.Create(number, order); !made.ok()) return Fail(made);
    return kExitOk;
  }
  if (action == "task-done") {
    auto left = queue.TaskDone();
    if (!left.ok()) return Fail(left.status());
    PrintNamed(cl, "queue", name, ipc::Value(*left));
    return kExitOk;
  }
  if (action == "put") {
    const ipc::Value value = ipc::Value::ParseWord(a[2]);
    // A bounded queue that is full fails at once rather than hanging a shell.
    const ipc::Status put = a.size() == 4
                                ? queue.PutWithPriority(number, value, ipc::Deadline::Now())
                                : queue.Put(value, ipc::Deadline::Now());
    if (!put.ok()) return Fail(put);
    if (cl.json) {
      std::cout << JsonObject().Add("queue", name).Add("value", value).Text() << "\n";
    }
    return kExitOk;
  }
  const ipc::Deadline deadline =
      cl.timeout_s.value_or(0) > 0
          ? ipc::Deadline::After(std::chrono::duration<double>(*cl.timeout_s))
          : ipc::Deadline::Now();
  if (action == "join") {
    if (ipc::Status joined = queue.Join(deadline); !joined.ok()) return Fail(joined);
    return kExitOk;
  }
  auto got = queue.Get(deadline);
  if (!got.ok()) return Fail(got.status());
  PrintNamed(cl, "queue", name, *got);
  return kExitOk;
}

}  // namespace ipcctl
