// ipcctl objects / clean: libipc's named objects in /dev/shm, listed with
// their creator, and the stale ones (creator gone) removed.
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "ipc/objects.h"
#include "json_output.h"

namespace ipcctl {
namespace {

void Print(const std::vector<ipc::ObjectInfo>& objects, bool json,
           std::string_view verb) {
  if (json) {
    PrintJsonArray(objects, [](const ipc::ObjectInfo& o) {
      return JsonObject()
          .Add("name", o.name)
          .Add("kind", o.kind)
          .Add("path", o.path)
          .Add("creator_pid", o.creator_pid)
          .Add("creator_alive", o.creator_alive)
          .Add("size", static_cast<int64_t>(o.size));
    });
    return;
  }
  for (const auto& o : objects) {
    std::printf("%-10s %-15s %-40s pid %-8d %s %llu bytes\n",
                std::string(verb).c_str(), o.kind.c_str(), o.name.c_str(),
                o.creator_pid,
                o.creator_pid == 0 ? "(unknown)"
                : o.creator_alive  ? "(alive)"
                                   : "(gone)",
                static_cast<unsigned long long>(o.size));
  }
  if (objects.empty()) std::printf("%s: nothing\n", std::string(verb).c_str());
}

}  // namespace

int RunObjects(const CommandLine& cl) {
  if (!cl.args.empty()) return UsageError("objects takes no arguments");
  auto objects = ipc::ListObjects();
  if (!objects.ok()) return Fail(objects.status());
  Print(*objects, cl.json, "object");
  return kExitOk;
}

int RunClean(const CommandLine& cl) {
  if (cl.args.empty()) {
    auto removed = ipc::CleanStaleObjects(cl.dry_run);
    if (!removed.ok()) return Fail(removed.status());
    Print(*removed, cl.json, cl.dry_run ? "would-rm" : "removed");
    return kExitOk;
  }
  // Names as given to Create; every stale object of that name, whatever its
  // kind, goes (none does while one of their creators runs).
  auto all = ipc::ListObjects();
  if (!all.ok()) return Fail(all.status());
  int rc = kExitOk;
  for (const std::string& name : cl.args) {
    std::vector<ipc::ObjectInfo> named;
    for (const ipc::ObjectInfo& o : *all) {
      if (o.name == name) named.push_back(o);
    }
    if (named.empty() || !cl.dry_run) {
      // With nothing of that name this only says why (not found, or a file
      // name given instead of an object's name).
      const ipc::Status status = ipc::RemoveStaleObject(name);
      if (!status.ok()) {
        rc = Fail(status);
        continue;
      }
    }
    if (cl.dry_run) {
      std::erase_if(named, [](const ipc::ObjectInfo& o) {
        return o.creator_pid == 0 || o.creator_alive;
      });
    }
    Print(named, cl.json, cl.dry_run ? "would-rm" : "removed");
  }
  return rc;
}

}  // namespace ipcctl
