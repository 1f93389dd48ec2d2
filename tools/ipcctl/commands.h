// ipcctl's commands, each a function of the parsed command line that
// prints its result (human or --json) and returns the exit code: 0 done,
// 1 failed (one line on stderr naming what), 2 bad usage.
//
// Thread safety: ipcctl is single-threaded; these write to stdout/stderr.
#ifndef IPC_TOOLS_IPCCTL_COMMANDS_H_
#define IPC_TOOLS_IPCCTL_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "ipc/manager.h"
#include "ipc/status.h"
#include "ipc/value.h"

namespace ipcctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct CommandLine {
  std::string url;           // --url, or unix:// + --socket; "" = default.
  std::string authkey_file;  // --authkey-file
  bool json = false;         // --json
  bool dry_run = false;      // --dry-run (clean)
  bool repair = false;       // --repair (check-state)
  std::optional<double> timeout_s;  // --timeout (queue get, condition notify)
  std::string command;              // ls, stats, counter, ...
  std::vector<std::string> args;    // The words after the command.
};

// Prints "ipcctl: <message>" on stderr; returns kExitFailed.
int Fail(const ipc::Status& status);
// Prints "ipcctl: <problem>" and the usage on stderr; returns kExitUsage.
int UsageError(const std::string& problem);

// objects_commands.cc: libipc's own objects in /dev/shm (no daemon).
int RunObjects(const CommandLine& cl);
int RunClean(const CommandLine& cl);

// state_commands.cc: ipcd's state directory, read without the daemon.
int RunCheckState(const CommandLine& cl);

// manager_commands.cc: commands that talk to ipcd, and what they share.
// Connects as ipcctl does: at once or not at all (no waiting for a daemon
// that is not running), with the key file when one was named.
ipc::Result<ipc::Manager> ConnectManager(const CommandLine& cl);
// A whole number argument, e.g. counter add's N.
bool ParseInt(const std::string& word, int64_t* out);
// Prints a name's value: the value alone for people, an object for --json.
void PrintNamed(const CommandLine& cl, const char* kind, const std::string& name,
                const ipc::Value& value);
int RunLs(const CommandLine& cl);
int RunStats(const CommandLine& cl);
int RunCounter(const CommandLine& cl);
int RunDict(const CommandLine& cl);
int RunQueue(const CommandLine& cl);

// kind_commands.cc: the list, semaphore, value, namespace and condition
// kinds.
int RunList(const CommandLine& cl);
int RunSemaphore(const CommandLine& cl);  // semaphore and bsemaphore
int RunValue(const CommandLine& cl);
int RunNamespace(const CommandLine& cl);
int RunCondition(const CommandLine& cl);

// watch_command.cc: a stream of an object's changes.
int RunWatch(const CommandLine& cl);

}  // namespace ipcctl

#endif  // IPC_TOOLS_IPCCTL_COMMANDS_H_
