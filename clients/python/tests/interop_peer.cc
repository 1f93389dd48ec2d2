// A C++ ipc::Manager client for the Python client's tests, so that both
// languages are shown to share one daemon's objects:
//
//   interop_peer increment SOCKET DICT LOCK N   N times, under LOCK:
//                                               DICT["count"] += 1
//   interop_peer acquire SOCKET LOCK MS         take LOCK within MS ms;
//                                               prints "acquired"
//   interop_peer dump SOCKET DICT               prints DICT as JSON
//   interop_peer write SOCKET DICT              stores one value of each kind
//
// Exit status: 0 done, 1 an ipcd error (printed), 2 usage.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "ipc/manager.h"

namespace {

int Fail(const ipc::Status& status) {
  std::cerr << "interop_peer: " << status << std::endl;
  return 1;
}

int Increment(ipc::Manager& m, const std::string& dict_name,
              const std::string& lock_name, int n) {
  auto dict = m.Dict(dict_name);
  auto lock = m.Lock(lock_name);
  for (int i = 0; i < n; ++i) {
    auto guard = lock.Acquire(std::chrono::seconds(30));
    if (!guard.ok()) return Fail(guard.status());
    auto count = dict.GetInt("count", 0);
    if (!count.ok()) return Fail(count.status());
    if (auto s = dict.Set("count", *count + 1); !s.ok()) return Fail(s);
  }
  std::cout << "done" << std::endl;
  return 0;
}

int Acquire(ipc::Manager& m, const std::string& lock_name, int ms) {
  auto guard = m.Lock(lock_name).Acquire(std::chrono::milliseconds(ms));
  if (!guard.ok()) return Fail(guard.status());
  std::cout << "acquired" << std::endl;
  return 0;
}

int Dump(ipc::Manager& m, const std::string& dict_name) {
  auto items = m.Dict(dict_name).Items();
  if (!items.ok()) return Fail(items.status());
  std::cout << ipc::Value(*items).ToJson() << std::endl;
  return 0;
}

int Write(ipc::Manager& m, const std::string& dict_name) {
  auto dict = m.Dict(dict_name);
  ipc::Value::Map map;
  map["nested"] = ipc::Value::List{1, "two", nullptr};
  const std::pair<const char*, ipc::Value> entries[] = {
      {"null", nullptr},     {"bool", true},
      {"int", int64_t{-7}},  {"double", 2.5},
      {"string", "héllo"},   {"bytes", ipc::Value::FromBytes(std::string("\0\xff", 2))},
      {"list", ipc::Value::List{1, 2.0, "x"}},
      {"map", map},
  };
  for (const auto& [key, value] : entries) {
    if (auto s = dict.Set(key, value); !s.ok()) return Fail(s);
  }
  std::cout << "written" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: interop_peer increment|acquire|dump|write SOCKET ..."
              << std::endl;
    return 2;
  }
  const std::string mode = argv[1];
  auto manager = ipc::Manager::Connect(argv[2]);
  if (!manager.ok()) return Fail(manager.status());
  if (mode == "increment" && argc == 6) {
    return Increment(*manager, argv[3], argv[4], std::atoi(argv[5]));
  }
  if (mode == "acquire" && argc == 5) {
    return Acquire(*manager, argv[3], std::atoi(argv[4]));
  }
  if (mode == "dump") return Dump(*manager, argv[3]);
  if (mode == "write") return Write(*manager, argv[3]);
  std::cerr << "interop_peer: bad arguments" << std::endl;
  return 2;
}
