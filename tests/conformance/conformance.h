// The conformance suite's fixture: a parameter per transport, connected
// pairs, and the helpers its cases share (conformance_test.cc,
// views_test.cc). Cases branch on ipc::Capabilities, never on the scheme,
// so a new transport joins by adding one line to kTransports.
#ifndef IPC_TESTS_CONFORMANCE_CONFORMANCE_H_
#define IPC_TESTS_CONFORMANCE_CONFORMANCE_H_

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <functional>
#include <string>

#include "ipc/channel.h"
#include "support/test_util.h"

namespace ipc::conformance {

using namespace std::chrono_literals;
using ipc::Channel;
using ipc::testing::TempDir;
using ipc::testing::UniqueName;

struct TransportParam {
  const char* name;
  // Makes a fresh, unique URL (given a private temp dir), with options.
  std::function<std::string(const TempDir&, const std::string& options)> url;
  bool in_process_pair = false;  // pipe: made by ipc::Pipe(), no listener.
};

inline void PrintTo(const TransportParam& param, std::ostream* os) { *os << param.name; }

// A connected pair: `sender` is the end that may always send (the
// connecting end), `receiver` the one that may always receive.
struct Pair {
  Channel sender;
  Channel receiver;
  ipc::Listener listener;  // Kept open for transports that need it.
  std::string url;         // The URL to connect to (listener's, port filled).
};

inline std::string Payload(size_t size, uint64_t seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((seed * 131 + i * 7) & 0xff);
  return s;
}

// A loopback port nobody is bound to right now (TCP and UDP alike).
inline int FreeLoopbackPort() {
  for (;;) {
    auto probe = ipc::Listen("tcp://127.0.0.1:0");
    if (!probe.ok()) continue;
    const std::string& u = probe->url();
    const int port = std::stoi(u.substr(u.rfind(':') + 1));
    auto udp = ipc::Listen("udp://127.0.0.1:" + std::to_string(port));
    if (udp.ok()) return port;
  }
}

inline bool PollReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

class ConformanceTest : public ::testing::TestWithParam<TransportParam> {
 protected:
  ipc::Capabilities caps() {
    if (GetParam().in_process_pair) return ipc::TransportCapabilities("pipe").value();
    return ipc::TransportCapabilities(GetParam().url(dir_, "")).value();
  }
  std::string MakeUrl(const std::string& options = "") {
    return GetParam().url(dir_, options);
  }
  // Listens on a fresh URL and returns the listener (its url() is the one
  // to connect to).
  ipc::Listener MakeListener(const std::string& options = "") {
    auto listener = ipc::Listen(MakeUrl(options));
    EXPECT_TRUE(listener.ok()) << listener.status();
    return std::move(*listener);
  }
  Pair Connected(const std::string& options = "",
                 const std::string& receiver_options = "") {
    Pair p;
    if (GetParam().in_process_pair) {
      auto ends = ipc::Pipe();
      EXPECT_TRUE(ends.ok());
      p.sender = std::move(ends->first);
      p.receiver = std::move(ends->second);
      return p;
    }
    p.listener = MakeListener(receiver_options.empty() ? options : receiver_options);
    p.url = p.listener.url();
    std::string connect_url = p.url;
    if (!receiver_options.empty()) {
      // Connect with the sender's own options on the same address.
      connect_url = connect_url.substr(0, connect_url.find('?')) + options;
    }
    auto sender = ipc::Connect(connect_url, 5s);
    EXPECT_TRUE(sender.ok()) << sender.status();
    p.sender = std::move(*sender);
    auto receiver = p.listener.Accept(5s);
    EXPECT_TRUE(receiver.ok()) << receiver.status();
    p.receiver = std::move(*receiver);
    return p;
  }

  // A URL that a forked child can connect to before anything listens there
  // (port 0 replaced by a free port). Forking before listening keeps the
  // child clear of the listener's threads: a ZeroMQ context's I/O thread
  // may hold a lock of the allocator at the moment of the fork (seen in
  // the sanitizer build), and the child would wait on it forever.
  std::string UrlToListenOnAfterFork() {
    std::string url = MakeUrl();
    const size_t zero = url.find(":0");
    if (zero != std::string::npos && (zero + 2 == url.size() || url[zero + 2] == '?')) {
      url.replace(zero, 2, ":" + std::to_string(FreeLoopbackPort()));
    }
    return url;
  }

  TempDir dir_;
};

inline std::string WithOptions(std::string base, const std::string& options) {
  return base + options;
}

// One line per transport.
inline const TransportParam kTransports[] = {
    {"pipe", [](const TempDir&, const std::string&) { return std::string("pipe:"); }, true},
    {"fifo", [](const TempDir& d, const std::string& o) { return WithOptions("fifo://" + d.File("f"), o); }},
    {"unix_path", [](const TempDir& d, const std::string& o) { return WithOptions("unix://" + d.File("s.sock"), o); }},
    {"unix_abstract", [](const TempDir&, const std::string& o) { return WithOptions("unix://@" + UniqueName("conf"), o); }},
    {"tcp", [](const TempDir&, const std::string& o) { return WithOptions("tcp://127.0.0.1:0", o); }},
    {"udp", [](const TempDir&, const std::string& o) { return WithOptions("udp://127.0.0.1:0", o); }},
    {"shm", [](const TempDir&, const std::string& o) { return WithOptions("shm://" + UniqueName("conf"), o); }},
    {"mq", [](const TempDir&, const std::string& o) { return WithOptions("mq:///" + UniqueName("conf"), o); }},
    {"zmq_ipc", [](const TempDir& d, const std::string& o) { return WithOptions("zmq+ipc://" + d.File("z.sock"), o); }},
    {"zmq_tcp", [](const TempDir&, const std::string& o) { return WithOptions("zmq+tcp://127.0.0.1:0", o); }},
};

inline std::string TransportName(const ::testing::TestParamInfo<TransportParam>& info) {
  return info.param.name;
}

}  // namespace ipc::conformance

#endif  // IPC_TESTS_CONFORMANCE_CONFORMANCE_H_
