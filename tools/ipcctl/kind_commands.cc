// ipcctl list, semaphore, value, namespace and condition: the daemon's
// kinds beyond dict, counter and queue.
#include <chrono>
#include <iostream>
#include <string>

#include "commands.h"
#include "json_output.h"

namespace ipcctl {

int RunList(const CommandLine& cl) {
  const auto& a = cl.args;
  constexpr char kUsage[] =
      "usage: list append NAME VALUE | get NAME INDEX | pop NAME [INDEX] | "
      "len NAME | items NAME";
  if (a.size() < 2) return UsageError(kUsage);
  const std::string& action = a[0];
  const std::string& name = a[1];
  const bool fits = (action == "append" && a.size() == 3) ||
                    (action == "get" && a.size() == 3) ||
                    (action == "pop" && (a.size() == 2 || a.size() == 3)) ||
                    ((action == "len" || action == "items") && a.size() == 2);
  if (!fits) return UsageError(kUsage);
  int64_t index = -1;
  if ((action == "get" || action == "pop") && a.size() == 3 && !ParseInt(a[2], &index)) {
    return UsageError("list " + action + ": INDEX must be a whole number, not '" + a[2] + "'");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto list = manager->List(name);
  if (action == "append") {
    const ipc::Value value = ipc::Value::ParseWord(a[2]);
    if (ipc::Status appended = list.Append(value); !appended.ok()) return Fail(appended);
    if (cl.json) std::cout << JsonObject().Add("list", name).Add("value", value).Text() << "\n";
    return kExitOk;
  }
  if (action == "get" || action == "pop") {
    auto item = action == "get" ? list.Get(index) : list.Pop(index);
    if (!item.ok()) return Fail(item.status());
    PrintNamed(cl, "list", name, *item);
    return kExitOk;
  }
  if (action == "len") {
    auto len = list.Len();
    if (!len.ok()) return Fail(len.status());
    if (cl.json) {
      std::cout << JsonObject().Add("list", name).Add("len", *len).Text() << "\n";
    } else {
      std::cout << *len << "\n";
    }
    return kExitOk;
  }
  auto items = list.Slice();
  if (!items.ok()) return Fail(items.status());
  if (cl.json) {
    std::cout << JsonObject().Add("list", name).Add("items", ipc::Value(*items)).Text() << "\n";
  } else {
    for (const ipc::Value& item : *items) std::cout << HumanValue(item) << "\n";
  }
  return kExitOk;
}

int RunSemaphore(const CommandLine& cl) {
  const auto& a = cl.args;
  constexpr char kUsage[] = "usage: semaphore get NAME | release NAME  (bounded: bsemaphore)";
  if (a.size() != 2 || (a[0] != "get" && a[0] != "release")) return UsageError(kUsage);
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  const bool bounded = cl.command == "bsemaphore";
  auto sem = bounded ? manager->BoundedSemaphore(a[1]) : manager->Semaphore(a[1]);
  if (a[0] == "release") {
    if (ipc::Status released = sem.Release(); !released.ok()) return Fail(released);
  }
  auto free = sem.Value();
  if (!free.ok()) return Fail(free.status());
  if (cl.json) {
    std::cout << JsonObject().Add(cl.command, a[1]).Add("free", *free).Text() << "\n";
  } else {
    std::cout << *free << "\n";
  }
  return kExitOk;
}

int RunValue(const CommandLine& cl) {
  const auto& a = cl.args;
  const bool get = a.size() == 2 && a[0] == "get";
  const bool set = a.size() == 3 && a[0] == "set";
  if (!get && !set) return UsageError("usage: value get NAME | set NAME VALUE");
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto object = manager->Value(a[1]);
  if (set) {
    const ipc::Value value = ipc::Value::ParseWord(a[2]);
    if (ipc::Status stored = object.Set(value); !stored.ok()) return Fail(stored);
    if (cl.json) std::cout << JsonObject().Add("value", a[1]).Add("is", value).Text() << "\n";
    return kExitOk;
  }
  auto value = object.Get();
  if (!value.ok()) return Fail(value.status());
  if (cl.json) {
    std::cout << JsonObject().Add("value", a[1]).Add("is", *value).Text() << "\n";
  } else {
    std::cout << HumanValue(*value) << "\n";
  }
  return kExitOk;
}

int RunNamespace(const CommandLine& cl) {
  const auto& a = cl.args;
  const bool get = a.size() == 3 && a[0] == "get";
  const bool set = a.size() == 4 && a[0] == "set";
  const bool items = a.size() == 2 && a[0] == "items";
  if (!get && !set && !items) {
    return UsageError("usage: namespace get NAME ATTR | set NAME ATTR VALUE | items NAME");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  auto ns = manager->Namespace(a[1]);
  if (set) {
    if (ipc::Status stored = ns.Set(a[2], ipc::Value::ParseWord(a[3])); !stored.ok()) {
      return Fail(stored);
    }
    return kExitOk;
  }
  if (get) {
    auto value = ns.Get(a[2]);
    if (!value.ok()) return Fail(value.status());
    PrintNamed(cl, "namespace", a[1], *value);
    return kExitOk;
  }
  auto all = ns.Items();
  if (!all.ok()) return Fail(all.status());
  if (cl.json) {
    std::cout << JsonObject().Add("namespace", a[1]).Add("attributes", ipc::Value(*all)).Text()
              << "\n";
  } else {
    for (const auto& [attribute, value] : *all) {
      std::cout << attribute << " = " << HumanValue(value) << "\n";
    }
  }
  return kExitOk;
}

int RunCondition(const CommandLine& cl) {
  const auto& a = cl.args;
  constexpr char kUsage[] =
      "usage: condition get NAME | notify NAME [N] [--timeout S] | notify-all NAME [--timeout S]";
  const bool get = a.size() == 2 && a[0] == "get";
  const bool notify = (a.size() == 2 || a.size() == 3) && a[0] == "notify";
  const bool notify_all = a.size() == 2 && a[0] == "notify-all";
  if (!get && !notify && !notify_all) return UsageError(kUsage);
  if (cl.timeout_s && get) return UsageError("--timeout goes with condition notify");
  int64_t n = 1;
  if (notify && a.size() == 3 && !ParseInt(a[2], &n)) {
    return UsageError("condition notify: N must be a whole number, not '" + a[2] + "'");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  const std::string& name = a[1];
  // Named without its lock: the daemon says which lock it is bound to.
  auto lock_name = manager->Condition(name, std::string()).BoundLock();
  if (!lock_name.ok()) return Fail(lock_name.status());
  if (get) {
    auto waiting = manager->Condition(name, *lock_name).Waiting();
    if (!waiting.ok()) return Fail(waiting.status());
    if (cl.json) {
      std::cout << JsonObject().Add("condition", name).Add("lock", *lock_name).Add("waiting", *waiting).Text()
                << "\n";
    } else {
      std::cout << "lock " << *lock_name << ", " << *waiting << " waiting\n";
    }
    return kExitOk;
  }
  // A notify needs the lock, as in Python: take it (an rlock's kind as
  // the daemon lists it), notify and let it go.
  auto listed = manager->ListObjectsPage({.prefix = *lock_name, .limit = 1});
  if (!listed.ok()) return Fail(listed.status());
  const bool rlock = !listed->objects.empty() && listed->objects[0].name == *lock_name &&
                     listed->objects[0].kind == "rlock";
  auto lock = rlock ? manager->RLock(*lock_name) : manager->Lock(*lock_name);
  const ipc::Deadline deadline =
      cl.timeout_s.value_or(0) > 0
          ? ipc::Deadline::After(std::chrono::duration<double>(*cl.timeout_s))
          : ipc::Deadline::Now();
  auto guard = lock.Acquire(deadline);
  if (!guard.ok()) return Fail(guard.status());
  auto condition = manager->Condition(name, lock);
  auto woken = notify_all ? condition.NotifyAll() : condition.Notify(n);
  if (!woken.ok()) return Fail(woken.status());
  if (ipc::Status released = guard->Release(); !released.ok()) return Fail(released);
  if (cl.json) {
    std::cout << JsonObject().Add("condition", name).Add("woken", *woken).Text() << "\n";
  } else {
    std::cout << *woken << "\n";
  }
  return kExitOk;
}

}  // namespace ipcctl
