// ipcctl: drive and inspect ipcd, and tidy libipc's IPC objects.
//
//   ipcctl [--socket PATH | --url URL] [--authkey-file FILE] [--json] COMMAND
//
// See kUsage below for the commands. Exit codes: 0 done, 1 failed (one line
// on stderr naming what), 2 bad usage.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"

namespace ipcctl {
namespace {

constexpr char kUsage[] =
    "usage: ipcctl [--socket PATH | --url URL] [--authkey-file FILE] [--json] "
    "COMMAND\n"
    "\n"
    "Commands that talk to ipcd (at the default socket unless "
    "--socket/--url),\n"
    "or to Redis with --url redis://HOST:PORT, redis+unix:///PATH or\n"
    "redis+cluster://HOST:PORT[,HOST:PORT...] (all but watch; docs/redis.md):\n"
    "  ls [PREFIX]                 the daemon's objects (all, or those whose\n"
    "                              names start with PREFIX): name, kind, size\n"
    "  stats                       the daemon's counters and limits\n"
    "  counter get NAME            a counter's value\n"
    "  counter add NAME [N]        add N (default 1; may be negative), print "
    "the sum\n"
    "  counter set NAME N\n"
    "  dict get NAME KEY           a dict's value for KEY\n"
    "  dict set NAME KEY VALUE\n"
    "  dict del NAME KEY\n"
    "  dict items NAME             every KEY = VALUE, in key order\n"
    "  list append NAME VALUE      add VALUE at the end of a list\n"
    "  list get NAME INDEX         the item at INDEX (negative: from the end)\n"
    "  list pop NAME [INDEX]       remove and print the item (default: the last)\n"
    "  list len NAME | items NAME  the number of items | every item, one a line\n"
    "  semaphore get NAME          a semaphore's free units (bsemaphore: a\n"
    "  semaphore release NAME      bounded one); release adds one, printing them\n"
    "  value get NAME | value set NAME VALUE\n"
    "  namespace get NAME ATTR | namespace set NAME ATTR VALUE\n"
    "  namespace items NAME        every ATTR = VALUE, in name order\n"
    "  condition get NAME          the lock a condition is bound to, and how\n"
    "                              many wait for a notify\n"
    "  condition notify NAME [N] [--timeout S]\n"
    "  condition notify-all NAME [--timeout S]\n"
    "                              take its lock (waiting up to S seconds;\n"
    "                              without --timeout, not at all), wake N\n"
    "                              waiters (default 1) or all, print how many\n"
    "  queue create NAME CAPACITY [fifo|lifo|priority]\n"
    "                              make it (0 = unbounded; default fifo)\n"
    "  queue put NAME VALUE [PRIORITY]\n"
    "                              add (fails at once if a bounded queue is "
    "full)\n"
    "  queue get NAME [--timeout S]\n"
    "                              take the next item; without --timeout, do "
    "not\n"
    "                              wait (an empty queue fails with 'empty')\n"
    "  queue task-done NAME        end a task; print how many are left\n"
    "  queue join NAME [--timeout S]\n"
    "                              wait until every task is done\n"
    "  watch NAME [KEY] [--timeout S]\n"
    "                              one line per change of an object (or of a\n"
    "                              dict's KEY), the current state first, until\n"
    "                              interrupted or S seconds pass without one\n"
    "Commands on libipc's objects in /dev/shm (no daemon needed):\n"
    "  objects                     list them: kind, name, creator pid\n"
    "  clean [--dry-run] [NAME...] remove those whose creator has exited\n"
    "                              (NAME as given to Create, any kind)\n"
    "ipcd's state directory (no daemon needed):\n"
    "  check-state [--repair] DIR  check its snapshot and logs as ipcd's start\n"
    "                              does; exit 1 on damage. --repair (ipcd\n"
    "                              stopped) cuts the log at the damage, saving\n"
    "                              the dropped bytes beside it\n"
    "\n"
    "VALUEs are read as null, true, false, a whole number, a decimal number, "
    "or\n"
    "else text. Output is for people unless --json. Put a negative N after\n"
    "'--' or as is: only words starting with '--' are options.\n"
    "The key (ipcd's tcp://) or Redis password comes from --authkey-file, or\n"
    "else from the environment variable IPC_AUTHKEY.\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

// Takes the value of the option at args[*i] ("--name VALUE" or
// "--name=VALUE"); false when it is missing.
bool OptionValue(const std::vector<std::string>& args, size_t* i,
                 std::string_view name, std::string* out) {
  const std::string& arg = args[*i];
  if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
      arg[name.size()] == '=') {
    *out = arg.substr(name.size() + 1);
    return true;
  }
  if (*i + 1 >= args.size()) return false;
  *out = args[++*i];
  return true;
}

// Parses the command line; returns -1 when it is good, else the exit code.
int Parse(const std::vector<std::string>& args, CommandLine* cl) {
  std::string socket;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || !arg.starts_with("-") || arg == "-" ||
        (!arg.starts_with("--") && arg != "-h")) {
      // Words, including negative numbers such as -5.
      if (cl->command.empty())
        cl->command = arg;
      else
        cl->args.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(0, arg.find('='));
    std::string value;
    if (arg == "--") {
      options_done = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return kExitOk;
    } else if (arg == "--json") {
      cl->json = true;
    } else if (arg == "--dry-run") {
      cl->dry_run = true;
    } else if (arg == "--repair") {
      cl->repair = true;
    } else if (name == "--socket" || name == "--url" ||
               name == "--authkey-file" || name == "--timeout") {
      if (!OptionValue(args, &i, name, &value) || value.empty()) {
        return UsageError(name + " needs a value");
      }
      if (name == "--socket") socket = value;
      if (name == "--url") cl->url = value;
      if (name == "--authkey-file") cl->authkey_file = value;
      if (name == "--timeout") {
        char* end = nullptr;
        const double seconds = std::strtod(value.c_str(), &end);
        if (*end != '\0' || !std::isfinite(seconds) || seconds < 0 ||
            seconds > 1e9) {
          return UsageError("--timeout expects seconds (0 to 1e9), not '" +
                            value + "'");
        }
        cl->timeout_s = seconds;
      }
    } else {
      return UsageError("unknown option '" + arg + "'");
    }
  }
  if (!socket.empty() && !cl->url.empty()) {
    return UsageError("give --socket or --url, not both");
  }
  if (!socket.empty()) cl->url = "unix://" + socket;
  if (cl->command.empty()) return UsageError("no command given");
  if (cl->dry_run && cl->command != "clean") {
    return UsageError("--dry-run goes with clean");
  }
  if (cl->repair && cl->command != "check-state") {
    return UsageError("--repair goes with check-state");
  }
  if (cl->timeout_s && cl->command != "queue" && cl->command != "condition" &&
      cl->command != "watch") {
    return UsageError(
        "--timeout goes with queue get, queue join, condition notify and watch");
  }
  return -1;
}

}  // namespace

int Fail(const ipc::Status& status) {
  std::cerr << "ipcctl: " << status.message() << "\n";
  return kExitFailed;
}

int UsageError(const std::string& problem) {
  std::cerr << "ipcctl: " << problem << "\n" << kUsage;
  return kExitUsage;
}

}  // namespace ipcctl

int main(int argc, char** argv) {
  using namespace ipcctl;  // NOLINT: the tool's own namespace.
  CommandLine cl;
  if (const int rc =
          Parse(std::vector<std::string>(argv + 1, argv + argc), &cl);
      rc >= 0) {
    return rc;
  }
  if (cl.command == "ls") return RunLs(cl);
  if (cl.command == "list") return RunList(cl);
  if (cl.command == "semaphore" || cl.command == "bsemaphore") return RunSemaphore(cl);
  if (cl.command == "value") return RunValue(cl);
  if (cl.command == "namespace") return RunNamespace(cl);
  if (cl.command == "condition") return RunCondition(cl);
  if (cl.command == "watch") return RunWatch(cl);
  if (cl.command == "stats") return RunStats(cl);
  if (cl.command == "counter") return RunCounter(cl);
  if (cl.command == "dict") return RunDict(cl);
  if (cl.command == "queue") return RunQueue(cl);
  if (cl.command == "objects") return RunObjects(cl);
  if (cl.command == "clean") return RunClean(cl);
  if (cl.command == "check-state") return RunCheckState(cl);
  return UsageError("unknown command '" + cl.command + "'");
}
