#include "ipc/url.h"

#include <cctype>
#include <charconv>
#include <string>

namespace ipc {
namespace {

Status Invalid(std::string_view text, std::string_view problem) {
  std::string message = "bad URL '";
  message += text;
  message += "': ";
  message += problem;
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
         c == '.';
}

// Splits "host:port", "[v6]:port" or a bare host.
Status SplitHostPort(std::string_view text, std::string_view authority,
                     Url* url) {
  if (authority.empty()) return Invalid(text, "empty host");
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Invalid(text, "unterminated '[' in IPv6 host");
    }
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid(text, "junk after ']'");
      port = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (host.find(':') != std::string_view::npos) {
        return Invalid(text, "IPv6 hosts must be written in brackets");
      }
    }
  }
  if (host.empty()) return Invalid(text, "empty host");
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Invalid(text, "port must be a number");
    }
  }
  url->host = std::string(host);
  url->port = std::string(port);
  return Status::Ok();
}

Status ParseQuery(std::string_view text, std::string_view query, Url* url) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (key.empty()) return Invalid(text, "empty option name in query");
    if (!url->query.emplace(std::string(key), std::string(value)).second) {
      return Invalid(text, "option '" + std::string(key) + "' given twice");
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<std::string_view> Url::Option(std::string_view key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  url.text = std::string(text);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid(text, "expected 'scheme:...' (e.g. unix:///tmp/a.sock)");
  }
  for (char c : text.substr(0, colon)) {
    if (!IsSchemeChar(c)) return Invalid(text, "bad character in scheme");
  }
  url.scheme = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);

  const size_t question = rest.find('?');
  std::string_view body = rest.substr(0, question);
  if (question != std::string_view::npos) {
    IPC_RETURN_IF_ERROR(ParseQuery(text, rest.substr(question + 1), &url));
  }
  if (body.empty()) return url;  // "pipe:" and the like.
  if (body.substr(0, 2) != "//") {
    return Invalid(text, "expected '//' after '" + url.scheme + ":'");
  }
  body.remove_prefix(2);
  if (body.empty()) return Invalid(text, "nothing after '//'");
  if (body.front() == '/' || body.front() == '@') {
    url.path = std::string(body);  // Absolute path or abstract name.
  } else if (body.find('/') != std::string_view::npos) {
    return Invalid(text, "relative paths are not allowed; use " + url.scheme +
                             ":///absolute/path");
  } else if (body.find(':') != std::string_view::npos ||
             body.front() == '[') {
    IPC_RETURN_IF_ERROR(SplitHostPort(text, body, &url));
  } else {
    url.path = std::string(body);  // A bare name: shm://jobs, tcp://host.
    url.host = url.path;
  }
  if (url.path.find('\0') != std::string::npos) {
    return Invalid(text, "NUL byte in path");
  }
  return url;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + std::string(text) + "' is not a byte size (e.g. 4096, 64K, 1M)");
  }
  std::string_view suffix(ptr, end - ptr);
  uint64_t multiplier = 1;
  if (suffix == "" ) {
  } else if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    multiplier = uint64_t{1} << 10;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    multiplier = uint64_t{1} << 20;
  } else if (suffix == "G" || suffix == "g" || suffix == "GiB") {
    multiplier = uint64_t{1} << 30;
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + std::string(text) + "': unknown size suffix '" +
                      std::string(suffix) + "' (use K, M or G)");
  }
  if (value > UINT64_MAX / multiplier) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + std::string(text) + "' is too large");
  }
  return value * multiplier;
}

Result<uint32_t> ParseFileMode(std::string_view text) {
  uint32_t mode = 0;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      mode > 0777) {
    return Status(ErrorCode::kInvalidArgument,
                  "'" + std::string(text) + "' is not an octal file mode (e.g. 0600)");
  }
  return mode;
}

}  // namespace ipc
