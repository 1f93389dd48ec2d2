// Fuzz target: the Manager client (ipc::Manager and its proxies) fed
// arbitrary daemon responses.
//
// A fake daemon runs in this process on a thread of its own. For each input
// a fresh listening unix socket is made (in a temporary directory); the fake
// daemon accepts one connection on it and at once closes and unlinks it, so
// that the client's reconnects after this connection fail at once (no
// socket file: kNotFound) instead of costing another accept. It then reads
// the client's Hello, answers it correctly, writes the input (after its
// first byte) as is — the fuzzer picks the framing, the ids and the
// Response bytes — shuts its write side and reads until the client closes.
//
// The client connects (which must succeed: the handshake is valid), then
// makes up to 4 calls from a fixed list of 21 (dict, counter, queue, lock,
// rlock, event, list, stats, batch, pipelined batch, Modify, Destroy): the
// input's first byte b picks the first one (b % 21) and how many
// (1 + (b / 21) % 4), each the next in the list, so that every call's reply
// parsing gets the fuzzed bytes first, and later calls see what an earlier
// one left (a dropped connection, a reconnect refused). Each call must
// return — a value or an error — without crashing; blocking calls get a
// 10 ms deadline and every other call a 2 s reply timeout, and since the
// fake daemon closes its side, nothing waits on a timer: the whole input
// must take under 5 s.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

std::string SocketFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/ipc-mgr-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Fail("mkdtemp failed");
    g_dir = tmpl;
    std::atexit(RemoveDir);
    return g_dir + "/ipcd.sock";
  }();
  return path;
}

// A listening socket at SocketFile(), for one input.
int Listen() {
  const std::string& path = SocketFile();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 4) != 0) {
    Fail("cannot listen on " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// The fake daemon's work for one input, handed over under mu. Never
// destroyed: the fake daemon's thread waits on cv until the process exits.
struct Handover {
  std::mutex mu;
  std::condition_variable cv;
  int listener = -1;    // >= 0: an input is waiting to be served.
  std::string script;   // What follows the HelloReply.
  bool served = false;  // The input's connection has been closed.
};
Handover& H() {
  static Handover* const h = new Handover;
  return *h;
}

// Serves one input: one connection on listener, which is closed (and its
// socket file removed) as soon as that connection is accepted.
void ServeOne(int listener, const std::string& script) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  if (!fuzz::WaitFor(listener, POLLIN, deadline))
    Fail("the client did not connect within 5 s");
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) Fail(std::string("accept: ") + std::strerror(errno));
  // From now on a reconnect finds no socket file.
  (void)::unlink(SocketFile().c_str());
  ::close(listener);
  std::string body;
  if (!fuzz::ReadFrame(fd, &body, deadline, 4096))
    Fail("no Hello from the client within 5 s");
  v1::Request hello;
  if (!hello.ParseFromString(body) || !hello.has_hello())
    Fail("the client's first request is not a Hello");
  v1::Response reply;
  reply.set_id(hello.id());
  reply.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  reply.mutable_hello()->set_server_version("ipcd fuzz");
  reply.mutable_hello()->set_session_id(1);
  // A client that has dropped the connection makes the write fail: fine.
  (void)fuzz::WriteAll(fd, fuzz::Frame(reply.SerializeAsString()) + script,
                       deadline);
  (void)::shutdown(fd, SHUT_WR);
  // Whatever the client sends is read (and ignored) until it closes.
  char buf[16384];
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      if (!fuzz::WaitFor(fd, POLLIN, deadline))
        Fail("the client kept its connection open for 5 s");
      continue;
    }
    break;  // EOF or an error (a reset): the client has closed.
  }
  ::close(fd);
}

void Serve() {
  Handover& h = H();
  for (;;) {
    int listener;
    std::string script;
    {
      std::unique_lock<std::mutex> lock(h.mu);
      h.cv.wait(lock, [&h] { return h.listener >= 0; });
      listener = h.listener;
      h.listener = -1;
      script.swap(h.script);
    }
    ServeOne(listener, script);
    {
      std::lock_guard<std::mutex> lock(h.mu);
      h.served = true;
    }
    h.cv.notify_all();
  }
}

const std::string& Url() {
  static const std::string url = [] {
    std::thread(Serve).detach();
    // max_message: the most a frame of the script (at most 64 KiB) can
    // hold. A fuzzed length prefix above it is discarded as it arrives,
    // instead of the client allocating (and zeroing) up to the default
    // 64 MiB for a frame the script cannot complete.
    return "unix://" + SocketFile() + "?max_message=65536";
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

// At most this many calls per input (see the top of the file).
constexpr size_t kMaxCalls = 4;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string& url = Url();
  const std::vector<Call>& calls = Calls();
  const size_t b = size > 0 ? data[0] : 0;
  const size_t first = b % calls.size();
  const size_t count = 1 + (b / calls.size()) % kMaxCalls;
  Handover& h = H();
  {
    std::lock_guard<std::mutex> lock(h.mu);
    h.script.assign(reinterpret_cast<const char*>(data) + (size > 0 ? 1 : 0),
                    size > 0 ? size - 1 : 0);
    h.served = false;
    h.listener = Listen();
  }
  h.cv.notify_all();
  ipc::ManagerOptions options;
  options.client_name = "fuzz";
  options.connect_timeout = std::chrono::seconds(2);
  options.reply_timeout = std::chrono::seconds(2);
  options.reply_spin = std::chrono::microseconds(0);
  const auto start = Clock::now();
  auto manager = ipc::Manager::Connect(url, options);
  if (!manager.ok()) Fail("Connect failed after a valid handshake: " +
                          manager.status().ToString());
  for (size_t i = 0; i < count; ++i) {
    calls[(first + i) % calls.size()](*manager);
  }
  manager->Close();
  {
    // The fake daemon has seen the close (and removed the socket file).
    std::unique_lock<std::mutex> lock(h.mu);
    if (!h.cv.wait_until(lock, start + std::chrono::seconds(5),
                         [&h] { return h.served; })) {
      Fail("the fake daemon did not see the client close within 5 s");
    }
  }
  if (Clock::now() - start > std::chrono::seconds(5))
    Fail("the client took over 5 s on a daemon that had closed its side");
  return 0;
}
