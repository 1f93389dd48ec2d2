// ipc::Url: an endpoint address such as "tcp://127.0.0.1:0?max_message=1M".
//
// ParseUrl() is the one place endpoint text is taken apart. It checks syntax
// only; which schemes and options exist is the transport registry's business
// (ipc::Listen and ipc::Connect report unknown ones by name).
//
// Accepted forms:
//   scheme:                       pipe:
//   scheme:?opts                  pipe:?rfd=0
//   scheme:///absolute/path       fifo:///tmp/f, unix:///run/a.sock
//   scheme://@abstract-name       unix://@app
//   scheme://name                 shm://jobs
//   scheme://host:port            tcp://127.0.0.1:8888, tcp://[::1]:0
// followed by an optional "?key=value&key=value" query.
//
// Thread safety: a plain value.
#ifndef IPC_URL_H_
#define IPC_URL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/result.h"

namespace ipc {

struct Url {
  std::string text;    // The URL as given.
  std::string scheme;  // "tcp", "unix", ... (lower case as written)
  // For host:port forms: the host without brackets, and the port text.
  std::string host;
  std::string port;
  // For path forms: "/tmp/f" (absolute path), "@name" (abstract) or "name".
  std::string path;
  std::map<std::string, std::string, std::less<>> query;

  // The query value for key, if present.
  std::optional<std::string_view> Option(std::string_view key) const;
};

// Parses text into a Url. kInvalidArgument, naming the URL and the problem,
// for a missing scheme, an empty or duplicated query key, or bad percent-free
// syntax.
Result<Url> ParseUrl(std::string_view text);

// Parses a byte size: a decimal number with an optional binary suffix
// K, M or G (KiB/MiB/GiB also accepted), e.g. "65536", "64K", "1M".
Result<uint64_t> ParseByteSize(std::string_view text);

// Parses an octal file mode such as "0600" or "660" (at most 0777).
Result<uint32_t> ParseFileMode(std::string_view text);

}  // namespace ipc

#endif  // IPC_URL_H_
