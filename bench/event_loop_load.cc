#include "event_loop_load.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "proto/ipcd.pb.h"

namespace bench {
namespace {

namespace v1 = ipcd::v1;
using Clock = std::chrono::steady_clock;

constexpr int kReplyTimeoutMs = 30000;

struct Connection {
  int fd = -1;
  long quota = 0;      // Requests this connection sends in all.
  long sent = 0;
  long answered = 0;
  uint64_t next_id = 1;
  std::string in;      // Bytes read and not yet parsed.
  std::string out;     // Bytes to write.
  size_t out_off = 0;
};

bool Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "ipcd-bench: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  return false;
}

void AppendFrame(const v1::Request& request, std::string* out) {
  const size_t size = request.ByteSizeLong();
  const size_t at = out->size();
  out->resize(at + 4 + size);
  for (int i = 0; i < 4; ++i) (*out)[at + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  request.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at + 4));
}

// Takes the first whole frame's body off in; false while it is incomplete.
bool TakeFrame(std::string* in, size_t* consumed, std::string_view* body) {
  if (in->size() - *consumed < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= uint32_t{static_cast<uint8_t>((*in)[*consumed + i])} << (8 * i);
  }
  if (in->size() - *consumed - 4 < n) return false;
  *body = std::string_view(in->data() + *consumed + 4, n);
  *consumed += 4 + n;
  return true;
}

// Connects and says Hello, blocking; the connection is non-blocking after.
bool Open(const std::string& path, Connection* c) {
  c->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Fail("socket path too long", path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (c->fd < 0 || ::connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Fail("cannot connect to ipcd", path + ": " + std::strerror(errno));
  }
  v1::Request hello;
  hello.set_id(c->next_id++);
  hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  hello.mutable_hello()->set_client_name("ipcd-bench");
  std::string frame;
  AppendFrame(hello, &frame);
  if (::send(c->fd, frame.data(), frame.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(frame.size())) {
    return Fail("cannot send Hello", std::strerror(errno));
  }
  size_t consumed = 0;
  std::string_view body;
  char buf[4096];
  while (!TakeFrame(&c->in, &consumed, &body)) {
    const ssize_t r = ::recv(c->fd, buf, sizeof(buf), 0);
    if (r <= 0) return Fail("ipcd closed the connection during Hello");
    c->in.append(buf, static_cast<size_t>(r));
  }
  v1::Response reply;
  if (!reply.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
      reply.status().code() != v1::OK || reply.hello().auth_required()) {
    return Fail("Hello refused", reply.ShortDebugString());
  }
  c->in.erase(0, consumed);
  return ::fcntl(c->fd, F_SETFL, O_NONBLOCK) == 0 || Fail("fcntl", std::strerror(errno));
}

class Driver {
 public:
  explicit Driver(const EventLoopLoad& load) : load_(load) {
    request_.mutable_call()->set_object(load.op == "counter-add" ? "bench:counter"
                                                                 : "bench:dict");
    v1::Call* call = request_.mutable_call();
    if (load.op == "counter-add") {
      call->set_kind(v1::COUNTER);
      call->set_op(v1::ADD);
      call->mutable_value()->set_int_value(1);
    } else {
      call->set_kind(v1::DICT);
      call->set_op(load.op == "dict-set" ? v1::SET : v1::GET);
      call->set_key("key");
      if (load.op == "dict-set") call->mutable_value()->set_string_value("xxx");
    }
  }

  // Queues the next group of up to `pipeline` requests on c.
  void SendGroup(Connection& c) {
    const long group = std::min(load_.pipeline, c.quota - c.sent);
    for (long i = 0; i < group; ++i) {
      request_.set_id(c.next_id++);
      if (load_.op == "dict-set" && load_.keys > 0) {
        char key[32];
        std::snprintf(key, sizeof(key), "key:%012ld", key_index_++ % load_.keys);
        request_.mutable_call()->set_key(key);
      }
      AppendFrame(request_, &c.out);
    }
    c.sent += group;
  }

  // Writes what c has queued; false on a broken connection.
  bool Flush(Connection& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                               MSG_NOSIGNAL);
      if (w < 0 && errno == EAGAIN) return true;
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return Fail("send", std::strerror(errno));
      c.out_off += static_cast<size_t>(w);
    }
    c.out.clear();
    c.out_off = 0;
    return true;
  }

  // Reads and checks c's replies; sends its next group once a group is in.
  bool OnReadable(Connection& c) {
    char buf[65536];
    for (;;) {
      const ssize_t r = ::recv(c.fd, buf, sizeof(buf), 0);
      if (r < 0 && errno == EAGAIN) break;
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return Fail("ipcd closed a connection");
      c.in.append(buf, static_cast<size_t>(r));
    }
    size_t consumed = 0;
    std::string_view body;
    while (TakeFrame(&c.in, &consumed, &body)) {
      if (!response_.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        return Fail("unparsable reply");
      }
      if (response_.status().code() != v1::OK) {
        return Fail("request failed", response_.ShortDebugString());
      }
      ++c.answered;
      ++answered_;
    }
    c.in.erase(0, consumed);
    if (c.answered == c.sent && c.sent < c.quota) {
      SendGroup(c);
      return Flush(c);
    }
    return true;
  }

  double Run() {
    std::vector<Connection> conns(static_cast<size_t>(load_.connections));
    for (size_t i = 0; i < conns.size(); ++i) {
      conns[i].quota = load_.requests / load_.connections +
                       (static_cast<long>(i) < load_.requests % load_.connections ? 1 : 0);
      if (!Open(load_.socket_path, &conns[i])) return -1;
    }
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns.size(); ++i) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u64 = i;
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &e) != 0) return -1;
    }
    const auto start = Clock::now();
    for (Connection& c : conns) {
      SendGroup(c);
      if (!Flush(c)) return -1;
    }
    std::vector<epoll_event> events(conns.size());
    bool ok = true;
    while (ok && answered_ < load_.requests) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()),
                                 kReplyTimeoutMs);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = Fail("no reply within 30 s");
        break;
      }
      for (int i = 0; i < n && ok; ++i) {
        Connection& c = conns[events[i].data.u64];
        ok = OnReadable(c) && (c.out.empty() || Flush(c));
      }
      // A connection whose write would block keeps its bytes; try again on
      // each turn (they are small: a group of frames).
      for (Connection& c : conns) {
        if (ok && !c.out.empty()) ok = Flush(c);
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ::close(ep);
    for (Connection& c : conns) ::close(c.fd);
    return ok ? static_cast<double>(load_.requests) / seconds : -1;
  }

 private:
  const EventLoopLoad& load_;
  v1::Request request_;
  v1::Response response_;
  long answered_ = 0;
  long key_index_ = 0;
};

}  // namespace

double RunEventLoopLoad(const EventLoopLoad& load) { return Driver(load).Run(); }

}  // namespace bench
