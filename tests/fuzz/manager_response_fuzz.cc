// Fuzz target: the Manager client (ipc::Manager and its proxies) fed
// arbitrary daemon responses.
//
// A fake daemon runs in this process on a thread of its own, listening on a
// unix socket in a temporary directory. For each input it accepts the
// client's connection, answers its Hello correctly, then writes the input
// (after its first byte) as is — the fuzzer picks the framing, the ids and
// the Response bytes — and shuts its write side. Connections after the first
// one of an input (the client reconnecting) are closed at once.
//
// The client connects (which must succeed: the handshake is valid), then
// makes a fixed list of calls, starting at the one the input's first byte
// picks, so that every call's reply parsing gets the fuzzed bytes first.
// Each call must return — a value or an error — without crashing; blocking
// calls get a 10 ms deadline and every other call a 2 s reply timeout, and
// since the fake daemon closes its side, nothing may wait that long.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_socket.h"
#include "ipc/manager.h"
#include "proto/ipcd.pb.h"
#include <google/protobuf/stubs/logging.h>

namespace {

// Protobuf logs every unparsable string field; the fuzzer makes many.
[[maybe_unused]] const bool kQuietProtobuf =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace v1 = ipcd::v1;
using fuzz::Clock;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "manager_response_fuzz: %s\n", what.c_str());
  std::abort();
}

std::string g_dir;

void RemoveDir() {
  if (g_dir.empty()) return;
  (void)::unlink((g_dir + "/ipcd.sock").c_str());
  (void)::rmdir(g_dir.c_str());
}

// What the fake daemon sends after the HelloReply on the next connection.
std::mutex g_mu;
std::string g_script;
bool g_script_taken = true;

struct Conn {
  int fd = -1;
  bool scripted = false;  // Answers Hello, then sends the script.
  bool hello_done = false;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool shut = false;
};

void SetNonBlocking(int fd) {
  (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// The HelloReply to the Hello frame at the start of c.in, once complete.
void MaybeAnswerHello(Conn& c) {
  if (c.hello_done || c.in.size() < 4) return;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<uint8_t>(c.in[i])} << (8 * i);
  if (c.in.size() < 4 + size_t{n}) return;
  v1::Request hello;
  if (!hello.ParseFromArray(c.in.data() + 4, static_cast<int>(n)) ||
      !hello.has_hello()) {
    Fail("the client's first request is not a Hello");
  }
  c.hello_done = true;
  v1::Response reply;
  reply.set_id(hello.id());
  reply.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  reply.mutable_hello()->set_server_version("ipcd fuzz");
  reply.mutable_hello()->set_session_id(1);
  c.out = fuzz::Frame(reply.SerializeAsString());
  std::lock_guard<std::mutex> lock(g_mu);
  c.out += g_script;
}

void Serve(int listener) {
  std::vector<Conn> conns;
  char buf[16384];
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({listener, POLLIN, 0});
    for (const Conn& c : conns) {
      short events = POLLIN;
      if (c.out_off < c.out.size()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR)
      Fail("poll failed");
    for (size_t i = 1; i < fds.size(); ++i) {
      Conn& c = conns[i - 1];
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t r = ::recv(c.fd, buf, sizeof(buf), 0);
        if (r > 0) {
          if (!c.hello_done) c.in.append(buf, static_cast<size_t>(r));
          MaybeAnswerHello(c);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
      }
      if (c.out_off < c.out.size()) {
        const ssize_t w = ::send(c.fd, c.out.data() + c.out_off,
                                 c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w > 0) {
          c.out_off += static_cast<size_t>(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          c.out_off = c.out.size();
        }
      }
      if (c.hello_done && !c.shut && c.out_off == c.out.size()) {
        (void)::shutdown(c.fd, SHUT_WR);
        c.shut = true;
      }
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      bool scripted = false;
      {
        std::lock_guard<std::mutex> lock(g_mu);
        scripted = !g_script_taken;
        g_script_taken = true;
      }
      if (!scripted) {
        ::close(fd);  // A reconnect: refused.
        continue;
      }
      SetNonBlocking(fd);
      Conn c;
      c.fd = fd;
      c.scripted = true;
      conns.push_back(std::move(c));
    }
  }
}

const std::string& Url() {
  static const std::string url = [] {
    char tmpl[] = "/tmp/ipc-mgr-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Fail("mkdtemp failed");
    g_dir = tmpl;
    std::atexit(RemoveDir);
    const std::string path = g_dir + "/ipcd.sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, 64) != 0) {
      Fail("cannot listen on " + path);
    }
    std::thread(Serve, fd).detach();
    return "unix://" + path;
  }();
  return url;
}

using Call = std::function<void(const ipc::Manager&)>;

const std::vector<Call>& Calls() {
  static const std::vector<Call> calls = [] {
    const auto soon = [] { return ipc::Deadline::After(std::chrono::milliseconds(10)); };
    std::vector<Call> c;
    c.push_back([](const ipc::Manager& m) { (void)m.Counter("c").Add(1); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Get("k"); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Items(); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Keys(); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Values(); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Len(); });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").Pop("k", 1); });
    c.push_back([](const ipc::Manager& m) {
      (void)m.Dict("d").CompareAndSet("k", std::nullopt, ipc::Value("v"));
    });
    c.push_back([](const ipc::Manager& m) { (void)m.Dict("d").GetInt("k", 0); });
    c.push_back([soon](const ipc::Manager& m) {
      (void)m.Dict("d").Modify(
          "k",
          [](const std::optional<ipc::Value>& v) -> ipc::Result<ipc::Value> {
            if (v && v->if_int()) return ipc::Value(*v->if_int() / 2);
            return ipc::Value(1);
          },
          soon());
    });
    c.push_back([soon](const ipc::Manager& m) { (void)m.Queue("q").Get(soon()); });
    c.push_back([soon](const ipc::Manager& m) { (void)m.Queue("q").Put(ipc::Value(1), soon()); });
    c.push_back([soon](const ipc::Manager& m) {
      auto guard = m.Lock("l").Acquire(soon());
      if (guard.ok()) (void)guard->Release();
    });
    c.push_back([soon](const ipc::Manager& m) { (void)m.RLock("r").AcquireRaw(soon()); });
    c.push_back([soon](const ipc::Manager& m) { (void)m.Event("e").Wait(soon()); });
    c.push_back([](const ipc::Manager& m) { (void)m.Event("e").IsSet(); });
    c.push_back([](const ipc::Manager& m) { (void)m.ListObjects(); });
    c.push_back([](const ipc::Manager& m) { (void)m.Stats(); });
    c.push_back([](const ipc::Manager& m) {
      auto batch = m.Batch();
      batch.CounterAdd("c", 1).DictGet("d", "k").QueuePut("q", 2).CounterGet("c");
      (void)batch.Run();
    });
    c.push_back([](const ipc::Manager& m) {
      auto batch = m.Batch();
      batch.CounterAdd("c", 1).DictGet("d", "k").DictSet("d", "k", 3);
      (void)batch.RunPipelined();
    });
    c.push_back([](const ipc::Manager& m) { (void)m.Destroy("c"); });
    return c;
  }();
  return calls;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string& url = Url();
  const size_t first = size > 0 ? data[0] : 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_script.assign(reinterpret_cast<const char*>(data) + (size > 0 ? 1 : 0),
                    size > 0 ? size - 1 : 0);
    g_script_taken = false;
  }
  ipc::ManagerOptions options;
  options.client_name = "fuzz";
  options.connect_timeout = std::chrono::seconds(2);
  options.reply_timeout = std::chrono::seconds(2);
  options.reply_spin = std::chrono::microseconds(0);
  const auto start = Clock::now();
  auto manager = ipc::Manager::Connect(url, options);
  if (!manager.ok()) Fail("Connect failed after a valid handshake: " +
                          manager.status().ToString());
  const std::vector<Call>& calls = Calls();
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[(first + i) % calls.size()](*manager);
  }
  manager->Close();
  if (Clock::now() - start > std::chrono::seconds(5))
    Fail("the client took over 5 s on a daemon that had closed its side");
  return 0;
}
