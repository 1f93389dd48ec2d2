// The table from URL scheme to transport. A new transport is one line here.
#include <array>
#include <charconv>
#include <string>

#include "transport/fifo.h"
#include "transport/mq.h"
#include "transport/pipe.h"
#include "transport/shm.h"
#include "transport/tcp.h"
#include "transport/transport.h"
#include "transport/udp.h"
#include "transport/unix_socket.h"
#include "transport/zmq.h"

namespace ipc::internal {
namespace {

const std::array<const Transport*, 9> kTransports = {
    &kPipeTransport, &kFifoTransport, &kUnixTransport,
    &kTcpTransport,  &kUdpTransport,  &kShmTransport,
    &kMqTransport,   &kZmqIpcTransport, &kZmqTcpTransport,
};

std::string KnownSchemes() {
  std::string out;
  for (const Transport* t : kTransports) {
    if (!out.empty()) out += ", ";
    out += t->caps.scheme;
  }
  return out;
}

std::string KnownOptions(const Transport& transport) {
  std::string out = "max_message";
  for (std::string_view option : transport.options) {
    out += ", ";
    out += option;
  }
  return out;
}

}  // namespace

const Transport* FindTransport(std::string_view scheme) {
  for (const Transport* t : kTransports) {
    if (t->caps.scheme == scheme) return t;
  }
  return nullptr;
}

Status ChannelImpl::ReceiveAvailable(std::vector<std::string>* messages,
                                     size_t max_messages) {
  std::string message;
  for (size_t taken = 0; taken < max_messages; ++taken) {
    const Status status = Receive(&message, Deadline::Now());
    if (!status.ok()) {
      // Nothing more has arrived: what was taken is the answer.
      return taken > 0 && status.code() == ErrorCode::kWouldBlock ? Status::Ok() : status;
    }
    messages->push_back(std::move(message));
    message.clear();
  }
  return Status::Ok();
}

Status ChannelImpl::CheckSendSize(size_t size) const {
  if (size <= max_message_) return Status::Ok();
  return Status(ErrorCode::kMessageTooLarge,
                url_ + ": message of " + std::to_string(size) +
                    " bytes exceeds max_message of " +
                    std::to_string(max_message_) + "; nothing was sent");
}

Result<ResolvedUrl> ResolveUrl(std::string_view text) {
  IPC_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  const Transport* transport = FindTransport(url.scheme);
  if (transport == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  std::string(text) + ": unknown scheme '" + url.scheme +
                      "' (known: " + KnownSchemes() + ")");
  }
  for (const auto& [key, value] : url.query) {
    bool known = key == "max_message";
    for (std::string_view option : transport->options) known |= option == key;
    if (!known) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(text) + ": unknown option '" + key + "' for " +
                        url.scheme + ": URLs (known: " +
                        KnownOptions(*transport) + ")");
    }
  }
  CommonOptions common;
  common.max_message = transport->caps.default_max_message;
  if (auto value = url.Option("max_message")) {
    auto size = ParseByteSize(*value);
    if (!size.ok()) return size.status().WithContext(std::string(text) + ": max_message");
    if (*size > transport->caps.max_message_limit) {
      return Status(ErrorCode::kInvalidArgument,
                    std::string(text) + ": max_message " + std::to_string(*size) +
                        " exceeds what " + url.scheme + ": can carry (" +
                        std::to_string(transport->caps.max_message_limit) + ")");
    }
    common.max_message = static_cast<size_t>(*size);
  }
  return ResolvedUrl{std::move(url), transport, common};
}

Result<uint32_t> ModeOption(const Url& url, uint32_t fallback) {
  auto value = url.Option("mode");
  if (!value) return fallback;
  auto mode = ParseFileMode(*value);
  if (!mode.ok()) return mode.status().WithContext(url.text + ": mode");
  return *mode;
}

Result<int> IntOption(const Url& url, std::string_view key, int fallback) {
  auto value = url.Option(key);
  if (!value) return fallback;
  int out = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
  if (value->empty() || ec != std::errc() || ptr != value->data() + value->size() ||
      out < 0) {
    return Status(ErrorCode::kInvalidArgument,
                  url.text + ": option '" + std::string(key) +
                      "' must be a non-negative integer, not '" +
                      std::string(*value) + "'");
  }
  return out;
}

}  // namespace ipc::internal

namespace ipc {

Result<Capabilities> TransportCapabilities(std::string_view url_or_scheme) {
  std::string_view scheme = url_or_scheme.substr(0, url_or_scheme.find(':'));
  const internal::Transport* transport = internal::FindTransport(scheme);
  if (transport == nullptr) {
    return Status(ErrorCode::kInvalidArgument,
                  "unknown scheme '" + std::string(scheme) +
                      "' (known: " + internal::KnownSchemes() + ")");
  }
  return transport->caps;
}

std::vector<Capabilities> Transports() {
  std::vector<Capabilities> out;
  for (const internal::Transport* t : internal::kTransports) out.push_back(t->caps);
  return out;
}

}  // namespace ipc
