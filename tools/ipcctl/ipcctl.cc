// ipcctl: inspect and tidy libipc's IPC objects.
//
//   ipcctl objects [--json]              list libipc objects in /dev/shm
//   ipcctl clean [--dry-run] [--json]    remove those whose creator is gone
//   ipcctl clean NAME...                 remove the named ones, if stale
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/objects.h"

namespace {

constexpr char kUsage[] =
    "usage: ipcctl objects [--json]\n"
    "       ipcctl clean [--dry-run] [--json] [NAME...]\n"
    "\n"
    "objects  list libipc's objects in /dev/shm with their creator pid and\n"
    "         whether it is still running\n"
    "clean    remove the objects whose creator has exited (all of them, or\n"
    "         the NAMEs given); --dry-run only shows what would go\n";

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void Print(const std::vector<ipc::ObjectInfo>& objects, bool json,
           std::string_view verb) {
  if (json) {
    std::cout << "[";
    for (size_t i = 0; i < objects.size(); ++i) {
      const auto& o = objects[i];
      std::cout << (i ? "," : "") << "{\"name\":" << JsonString(o.name)
                << ",\"kind\":" << JsonString(o.kind)
                << ",\"creator_pid\":" << o.creator_pid
                << ",\"creator_alive\":" << (o.creator_alive ? "true" : "false")
                << ",\"size\":" << o.size << "}";
    }
    std::cout << "]\n";
    return;
  }
  for (const auto& o : objects) {
    std::printf("%-10s %-48s %-12s pid %-8d %s %llu bytes\n",
                std::string(verb).c_str(), o.name.c_str(), o.kind.c_str(),
                o.creator_pid,
                o.creator_pid == 0 ? "(unknown)" : o.creator_alive ? "(alive)" : "(gone)",
                static_cast<unsigned long long>(o.size));
  }
  if (objects.empty()) std::printf("%s: nothing\n", std::string(verb).c_str());
}

int Fail(const ipc::Status& status) {
  std::cerr << "ipcctl: " << status.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string_view command = args[0];
  bool json = false, dry_run = false;
  std::vector<std::string_view> names;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--json") json = true;
    else if (args[i] == "--dry-run" && command == "clean") dry_run = true;
    else if (!args[i].empty() && args[i][0] == '-') {
      std::cerr << "ipcctl: unknown option '" << args[i] << "'\n" << kUsage;
      return 2;
    } else names.push_back(args[i]);
  }
  if (command == "objects" && names.empty()) {
    auto objects = ipc::ListObjects();
    if (!objects.ok()) return Fail(objects.status());
    Print(*objects, json, "object");
    return 0;
  }
  if (command == "clean" && names.empty()) {
    auto removed = ipc::CleanStaleObjects(dry_run);
    if (!removed.ok()) return Fail(removed.status());
    Print(*removed, json, dry_run ? "would-rm" : "removed");
    return 0;
  }
  if (command == "clean") {
    int rc = 0;
    for (std::string_view name : names) {
      if (dry_run) {
        std::cout << "would-rm " << name << "\n";
        continue;
      }
      ipc::Status status = ipc::RemoveStaleObject(name);
      if (!status.ok()) rc = Fail(status);
      else std::cout << "removed " << name << "\n";
    }
    return rc;
  }
  std::cerr << "ipcctl: unknown command '" << command << "'\n" << kUsage;
  return 2;
}
