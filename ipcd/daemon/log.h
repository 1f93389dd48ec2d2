// Logging for ipcd: one line per message on stderr, prefixed with the
// syslog level the way sd-daemon(3) describes ("<6>ipcd: listening on ..."),
// so journald files each line under the right priority and a terminal
// stays readable.
//
// Logging is for events (connections, limits hit, failures), never for
// individual requests: the hot path does not log.
//
// Thread safety: ipcd is single-threaded; these functions are not
// synchronized beyond what a single write(2) per line gives.
#ifndef IPCD_DAEMON_LOG_H_
#define IPCD_DAEMON_LOG_H_

#include <string_view>

namespace ipcd {

enum class LogLevel {
  kError = 3,
  kWarning = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7,
};

// Messages above this level are dropped (default kInfo).
void SetLogLevel(LogLevel level);

// Writes "<level>ipcd: message\n" to stderr in one write.
void Log(LogLevel level, std::string_view message);

inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogWarning(std::string_view m) { Log(LogLevel::kWarning, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

// Routes protobuf's own log output through Log().
void InstallProtobufLogHandler();

}  // namespace ipcd

#endif  // IPCD_DAEMON_LOG_H_
