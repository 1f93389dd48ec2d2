// ipcctl watch NAME [KEY]: one line per change of an ipcd object (or of
// one key of a dict or namespace) as it happens, until interrupted, or
// until --timeout seconds pass without a change.
#include <chrono>
#include <iostream>
#include <string>

#include "commands.h"
#include "ipc/manager.h"
#include "json_output.h"

namespace ipcctl {
namespace {

// {"version":7,"resync":false,...}: every field, whatever the kind.
std::string JsonLine(const ipc::WatchEvent& e) {
  ipc::Value::Map items;
  for (const auto& [key, value] : e.items) items[key] = value;
  ipc::Value::List removed(e.removed.begin(), e.removed.end());
  return JsonObject()
      .Add("version", static_cast<int64_t>(e.version))
      .Add("resync", e.resync)
      .Add("missed", e.missed)
      .Add("exists", e.exists)
      .Add("kind", e.kind.empty() ? ipc::Value() : ipc::Value(e.kind))
      .Add("op", e.op.empty() ? ipc::Value() : ipc::Value(e.op))
      .Add("value", e.value)
      .Add("items", ipc::Value(std::move(items)))
      .Add("removed", ipc::Value(std::move(removed)))
      .Text();
}

// "7 ADD 42", "3 state {"a":1}", "9 SET a=1 -b", "12 DESTROY (none)".
std::string HumanLine(const ipc::WatchEvent& e, bool keyed_object) {
  std::string line = std::to_string(e.version) + " " + (e.op.empty() ? "state" : e.op);
  if (!e.exists) {
    line += " (none)";
  } else if (!keyed_object) {
    line += " " + HumanValue(e.value);
  } else if (e.resync) {
    ipc::Value::Map items;
    for (const auto& [key, value] : e.items) items[key] = value;
    line += " " + ipc::Value(std::move(items)).ToJson();
  } else {
    for (const auto& [key, value] : e.items) line += " " + key + "=" + HumanValue(value);
    for (const std::string& key : e.removed) line += " -" + key;
  }
  if (e.missed > 0) line += " (missed " + std::to_string(e.missed) + ")";
  return line;
}

}  // namespace

int RunWatch(const CommandLine& cl) {
  if (cl.args.empty() || cl.args.size() > 2) {
    return UsageError("usage: watch NAME [KEY] [--timeout S]");
  }
  auto manager = ConnectManager(cl);
  if (!manager.ok()) return Fail(manager.status());
  std::optional<std::string> key;
  if (cl.args.size() == 2) key = cl.args[1];
  auto watcher = manager->Watch(cl.args[0], key);
  if (!watcher.ok()) return Fail(watcher.status());
  for (;;) {
    const ipc::Deadline deadline =
        cl.timeout_s ? ipc::Deadline::After(std::chrono::duration<double>(*cl.timeout_s))
                     : ipc::Deadline::Infinite();
    auto event = watcher->Next(deadline);
    if (event.status().code() == ipc::ErrorCode::kDeadlineExceeded) return kExitOk;
    if (event.status().code() == ipc::ErrorCode::kClosed) {
      // The daemon restarted (or stopped): the next Next reconnects, or
      // fails at once when no daemon listens.
      std::cerr << "ipcctl: " << event.status().message() << "\n";
      continue;
    }
    if (!event.ok()) return Fail(event.status());
    const bool keyed_object =
        !key && (event->kind == "dict" || event->kind == "namespace");
    std::cout << (cl.json ? JsonLine(*event) : HumanLine(*event, keyed_object))
              << std::endl;  // Flushed: someone is reading as it happens.
  }
}

}  // namespace ipcctl
