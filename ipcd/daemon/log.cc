#include "daemon/log.h"

#include <google/protobuf/stubs/logging.h>
#include <unistd.h>

#include <string>

namespace ipcd {
namespace {

LogLevel g_level = LogLevel::kInfo;

void ProtobufLog(google::protobuf::LogLevel level, const char* filename,
                 int line, const std::string& message) {
  const LogLevel ours = level >= google::protobuf::LOGLEVEL_ERROR
                            ? LogLevel::kError
                            : LogLevel::kWarning;
  Log(ours, "protobuf: " + message + " (" + filename + ":" +
                std::to_string(line) + ")");
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }

void Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) > static_cast<int>(g_level)) return;
  std::string line = "<" + std::to_string(static_cast<int>(level)) + ">ipcd: ";
  line.append(message);
  line.push_back('\n');
  // One write per line, so concurrent writers to the same journal stream
  // never interleave within a line.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n =
        ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

void InstallProtobufLogHandler() {
  google::protobuf::SetLogHandler(ProtobufLog);
}

}  // namespace ipcd
