#include "daemon/options.h"

#include <charconv>
#include <cstdint>
#include <fstream>
#include <limits>

#include "ipc/url.h"

namespace ipcd {
namespace {

using ipc::ErrorCode;
using ipc::Status;

Status Invalid(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::string Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// A count of at least min ("1000"); min is 1 except where 0 means "off".
ipc::Result<int64_t> ParseCount(std::string_view text, int64_t min = 1) {
  int64_t value = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      value < min) {
    return Invalid("'" + std::string(text) + "' is not " +
                   (min > 0 ? "a positive" : "a non-negative") + " integer");
  }
  return value;
}

// A positive byte size ("65536", "64K", "1M").
ipc::Result<int64_t> ParseBytes(std::string_view text) {
  auto size = ipc::ParseByteSize(text);
  if (!size.ok()) return size.status();
  if (*size == 0 ||
      *size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Invalid("'" + std::string(text) + "' is not a positive byte size");
  }
  return static_cast<int64_t>(*size);
}

// Sets one option by its config-file name; the caller adds where it came
// from to the error.
Status Apply(const std::string& key, const std::string& value, Options* o) {
  auto set_count = [&](int64_t* field, int64_t min = 1) -> Status {
    auto n = ParseCount(value, min);
    if (!n.ok()) return n.status();
    *field = *n;
    return Status::Ok();
  };
  if (key == "socket") {
    if (value.empty() || value[0] != '/') {
      return Invalid("socket must be an absolute path, not '" + value + "'");
    }
    o->socket = value;
  } else if (key == "listen") {
    if (value.empty()) return Invalid("listen needs a URL");
    o->listen.push_back(value);
  } else if (key == "authkey_file") {
    o->authkey_file = value;
  } else if (key == "max_frame_bytes") {
    auto n = ParseBytes(value);
    if (!n.ok()) return n.status();
    // A frame must hold an error response; the channel's length prefix
    // caps it at 4 GiB - 1.
    if (*n < 256 || *n > int64_t{UINT32_MAX}) {
      return Invalid("max_frame_bytes must be 256 to 4294967295, not " + value);
    }
    o->limits.max_frame_bytes = *n;
  } else if (key == "max_bytes") {
    auto n = ParseBytes(value);
    if (!n.ok()) return n.status();
    o->limits.max_bytes = *n;
  } else if (key == "max_clients") {
    return set_count(&o->limits.max_clients);
  } else if (key == "max_pending_per_client") {
    return set_count(&o->limits.max_pending_per_client);
  } else if (key == "max_objects") {
    return set_count(&o->limits.max_objects);
  } else if (key == "handshake_timeout_ms") {
    return set_count(&o->handshake_timeout_ms);
  } else if (key == "idle_timeout_ms") {
    return set_count(&o->idle_timeout_ms, /*min=*/0);  // 0: never.
  } else if (key == "frame_timeout_ms") {
    return set_count(&o->frame_timeout_ms, /*min=*/0);  // 0: no limit.
  } else if (key == "spin_us") {
    return set_count(&o->spin_us, /*min=*/0);  // 0: always sleep.
  } else if (key == "state_dir") {
    if (value.empty()) return Invalid("state_dir needs a directory");
    o->state_dir = value;
  } else if (key == "fsync") {
    if (value != "always" && value != "everysec" && value != "no") {
      return Invalid("fsync must be always, everysec or no, not '" + value +
                     "'");
    }
    o->fsync = value;
  } else if (key == "snapshot_after_bytes") {
    auto n = ParseBytes(value);
    if (!n.ok()) return n.status();
    o->snapshot_after_bytes = *n;
  } else if (key == "shm_upgrade") {
    if (value != "true" && value != "false") {
      return Invalid("shm_upgrade must be true or false, not '" + value + "'");
    }
    o->shm_upgrade = value == "true";
  } else if (key == "verbose") {
    if (value != "true" && value != "false") {
      return Invalid("verbose must be true or false, not '" + value + "'");
    }
    o->verbose = value == "true";
  } else {
    return Invalid("unknown option '" + key + "'");
  }
  return Status::Ok();
}

}  // namespace

Status LoadConfigFile(const std::string& path, Options* options) {
  std::ifstream in(path);
  if (!in) return Invalid(path + ": cannot open config file");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::string text = Trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    const size_t eq = text.find('=');
    if (eq == std::string::npos) {
      return Invalid(where + "expected 'key = value', got '" + text + "'");
    }
    const std::string key = Trim(text.substr(0, eq));
    const std::string value = Trim(text.substr(eq + 1));
    Status status = Apply(key, value, options);
    if (!status.ok()) return Invalid(where + status.message());
  }
  return Status::Ok();
}

ipc::Result<Options> ParseOptions(int argc, char** argv) {
  // Split "--name=value" and "--name value" into pairs first, so --config
  // can be read before the flags that override it.
  struct Flag {
    std::string name;
    std::string value;
  };
  std::vector<Flag> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags.push_back({"help", ""});
      continue;
    }
    if (arg == "--verbose" || arg == "-v") {
      flags.push_back({"verbose", "true"});
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return Invalid("unexpected argument '" + arg + "' (see --help)");
    }
    std::string name = arg.substr(2);
    std::string value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= argc) return Invalid("--" + name + " needs a value");
      value = argv[++i];
    }
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    flags.push_back({name, value});
  }

  Options options;
  for (const Flag& flag : flags) {
    if (flag.name == "help") options.help = true;
    if (flag.name == "config") options.config_file = flag.value;
  }
  if (options.help) return options;
  if (!options.config_file.empty()) {
    IPC_RETURN_IF_ERROR(LoadConfigFile(options.config_file, &options));
  }
  bool listen_from_flags = false;
  for (const Flag& flag : flags) {
    if (flag.name == "config" || flag.name == "help") continue;
    if (flag.name == "listen" && !listen_from_flags) {
      // Flags replace the file's listeners rather than adding to them.
      options.listen.clear();
      listen_from_flags = true;
    }
    std::string dashed = flag.name;
    for (char& c : dashed) {
      if (c == '_') c = '-';
    }
    Status status = Apply(flag.name, flag.value, &options);
    if (!status.ok()) return Invalid("--" + dashed + ": " + status.message());
  }
  return options;
}

std::string UsageText() {
  const Limits defaults;
  return "Usage: ipcd [options]\n"
         "\n"
         "The ipcd manager daemon: named dicts, counters, locks, queues and\n"
         "events shared by many processes. Runs in the foreground and logs to\n"
         "stderr; SIGTERM or SIGINT stops it cleanly.\n"
         "\n"
         "Options (--name value or --name=value):\n"
         "  --socket PATH        unix socket to listen on (default: "
         "$IPCD_SOCKET,\n"
         "                       $RUNTIME_DIRECTORY/ipcd.sock,\n"
         "                       $XDG_RUNTIME_DIR/ipcd/ipcd.sock or\n"
         "                       /tmp/ipcd-$UID/ipcd.sock)\n"
         "  --listen URL         also listen on URL (repeatable), e.g.\n"
         "                       tcp://:7070 (127.0.0.1) or "
         "tcp://0.0.0.0:7070;\n"
         "                       tcp:// needs --authkey-file\n"
         "  --authkey-file FILE  shared key for tcp:// clients (mode 0600)\n"
         "  --config FILE        read 'key = value' options from FILE; flags\n"
         "                       override it\n"
         "  --max-frame-bytes N  largest request/response frame (default " +
         std::to_string(defaults.max_frame_bytes) +
         ";\n"
         "                       K, M, G suffixes)\n"
         "  --max-clients N      connections at once (default " +
         std::to_string(defaults.max_clients) +
         ")\n"
         "  --max-pending-per-client N\n"
         "                       unanswered requests per connection (default " +
         std::to_string(defaults.max_pending_per_client) +
         ")\n"
         "  --max-objects N      named objects (default " +
         std::to_string(defaults.max_objects) +
         ")\n"
         "  --max-bytes N        bytes of stored values (default " +
         std::to_string(defaults.max_bytes) +
         ")\n"
         "  --handshake-timeout-ms N\n"
         "                       time a connection has to finish its Hello\n"
         "                       (and Authenticate) (default 10000)\n"
         "  --idle-timeout-ms N  close a connection that sent no request for\n"
         "                       N ms and has none waiting; 0 = never\n"
         "                       (default 0)\n"
         "  --frame-timeout-ms N close a connection that sent part of a frame\n"
         "                       and not the rest within N ms; 0 = no limit\n"
         "                       (default 30000)\n"
         "  --spin-us N          after a request, poll this long before\n"
         "                       sleeping; 0 = never (default 50)\n"
         "  --state-dir DIR      keep the state in DIR: an append-only log and\n"
         "                       snapshots, restored at start (default:\n"
         "                       $STATE_DIRECTORY under systemd, else none:\n"
         "                       state in memory only)\n"
         "  --fsync POLICY       always: a change is synced before it is\n"
         "                       acknowledged; everysec: synced within about a\n"
         "                       second; no: when the kernel writes it\n"
         "                       (default everysec)\n"
         "  --snapshot-after-bytes N\n"
         "                       snapshot once the log since the last one is\n"
         "                       larger than N and than that snapshot\n"
         "                       (default 64M)\n"
         "  --shm-upgrade BOOL   offer clients of the unix socket a move to\n"
         "                       a shared-memory channel (default true)\n"
         "  --verbose, -v        also log debug messages\n"
         "  --help, -h           print this text\n"
         "\n"
         "Config file keys: socket, listen, authkey_file, max_frame_bytes,\n"
         "max_clients, max_pending_per_client, max_objects, max_bytes,\n"
         "handshake_timeout_ms, idle_timeout_ms, frame_timeout_ms, spin_us,\n"
         "state_dir, fsync, snapshot_after_bytes, shm_upgrade, verbose.\n"
         "See docs/ipcd.md.\n";
}

}  // namespace ipcd
