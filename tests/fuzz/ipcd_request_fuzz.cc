// Fuzz target: ipcd's request path — frame reading, decoding, the
// dispatcher, the object store, parking, responses — fed arbitrary bytes by
// one client after a valid Hello.
//
// The real ipcd::Server runs in this process, on a thread of its own,
// listening on a unix socket in a temporary directory (limits lowered so
// that they are reachable). Each input:
//   1. a fresh connection sends a valid Hello frame and, right behind it in
//      the same stream, the input as is (the fuzzer picks the framing): the
//      daemon runs the handshake first, so every fuzzed byte arrives after
//      a valid handshake. The responses are read while the input is
//      written: the first must be an OK HelloReply; every later one must
//      parse as an ipcd.v1.Response with protobuf's default recursion limit,
//      as the daemon promises (see kMaxValueNesting). Then the write side is
//      shut and the responses are read until the daemon closes the
//      connection, which it does on seeing the end of the stream. Only when
//      it has stopped reading that connection (a request parked with more
//      queued behind it than it accepts) does it keep it open; then the
//      connection is given up when nothing has come for 20 ms;
//   2. liveness: another fresh connection sends Hello and
//      Batch[counter SET 41, counter ADD 1] in one write; the HelloReply
//      must be OK and the batch must answer 41 and 42, each within 10 s. If
//      the fuzzed input left the store unable to run it (the name taken by
//      another kind, max_objects reached), every object is destroyed and
//      the batch must then succeed. The connection is then shut and read
//      until the daemon closes it, so the daemon is idle again before the
//      next input.
// No step waits on a timer when the daemon behaves: each wait ends with a
// response or the daemon's close. Any violation, or a daemon that does not
// answer in time, aborts.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "daemon/log.h"
#include "fuzz_socket.h"
#include "loop/server.h"
#include "proto/ipcd.pb.h"
#include <google/protobuf/stubs/logging.h>

namespace {

// Protobuf logs every unparsable string field; the fuzzer makes many.
[[maybe_unused]] const bool kQuietProtobuf =
    (google::protobuf::SetLogHandler(nullptr), true);

namespace v1 = ipcd::v1;
using fuzz::Clock;

constexpr int64_t kMaxFrame = 64 * 1024;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "ipcd_request_fuzz: %s\n", what.c_str());
  std::abort();
}

std::string g_dir;

void RemoveDir() {
  if (g_dir.empty()) return;
  (void)::unlink((g_dir + "/ipcd.sock").c_str());
  (void)::rmdir(g_dir.c_str());
}

// Starts the daemon once; returns its socket path.
const std::string& SocketPath() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/ipcd-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Fail("mkdtemp failed");
    g_dir = tmpl;
    std::atexit(RemoveDir);
    ipcd::Options options;
    options.socket = g_dir + "/ipcd.sock";
    options.spin_us = 0;
    options.handshake_timeout_ms = 5000;
    options.frame_timeout_ms = 5000;
    options.limits.max_frame_bytes = kMaxFrame;
    options.limits.max_pending_per_client = 16;
    options.limits.max_objects = 64;
    options.limits.max_bytes = 1 << 20;
    options.limits.max_clients = 64;
    ipcd::SetLogLevel(ipcd::LogLevel::kError);
    std::promise<void> ready;
    std::future<void> started = ready.get_future();
    // Created on its own thread: Create blocks SIGTERM/SIGINT for the
    // calling thread only, and libFuzzer's thread keeps its handlers.
    std::thread([options, &ready] {
      auto server = ipcd::Server::Create(options);
      if (!server.ok()) Fail("Server::Create: " + server.status().ToString());
      ready.set_value();
      (*server)->Run();
      Fail("the daemon stopped");
    }).detach();
    started.wait();
    return options.socket;
  }();
  return path;
}

std::string Serialize(const v1::Request& request) {
  std::string bytes;
  if (!request.SerializeToString(&bytes)) Fail("cannot serialize a request");
  return fuzz::Frame(bytes);
}

// One round trip on fd; the response must come within 10 s.
v1::Response RoundTrip(int fd, const v1::Request& request) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  if (!fuzz::WriteAll(fd, Serialize(request), deadline))
    Fail("cannot send a request: " + request.ShortDebugString());
  std::string body;
  if (!fuzz::ReadFrame(fd, &body, deadline))
    Fail("no response within 10 s to " + request.ShortDebugString());
  v1::Response response;
  if (!response.ParseFromString(body)) Fail("unparsable response");
  if (response.id() != request.id())
    Fail("response " + response.ShortDebugString() + " to request " +
         request.ShortDebugString());
  return response;
}

v1::Request Hello() {
  v1::Request hello;
  hello.set_id(1);
  hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  hello.mutable_hello()->set_client_name("fuzz");
  return hello;
}

void CheckHelloReply(const v1::Response& reply) {
  if (reply.id() != 1 || reply.status().code() != v1::OK || !reply.has_hello() ||
      reply.hello().protocol_version() != v1::PROTOCOL_VERSION_CURRENT ||
      reply.hello().auth_required()) {
    Fail("bad HelloReply: " + reply.ShortDebugString());
  }
}

// A fresh connection to the daemon (nothing sent yet).
int Connect() {
  const int fd = fuzz::ConnectUnix(SocketPath());
  if (fd < 0) Fail("cannot connect to the daemon");
  return fd;
}

// Reads one response frame on fd within deadline.
v1::Response ReadResponse(int fd, Clock::time_point deadline,
                          const std::string& what) {
  std::string body;
  if (!fuzz::ReadFrame(fd, &body, deadline))
    Fail("no response within 10 s to " + what);
  v1::Response response;
  if (!response.ParseFromString(body)) Fail("unparsable response to " + what);
  return response;
}

// Checks the response frames in buffer[*pos..], advancing *pos past them;
// the first one (*hello_seen false) must be the HelloReply.
void CheckResponses(const std::string& buffer, size_t* pos, bool* hello_seen) {
  v1::Response response;
  while (buffer.size() - *pos >= 4) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= uint32_t{static_cast<uint8_t>(buffer[*pos + i])} << (8 * i);
    if (buffer.size() - *pos - 4 < n) return;
    if (!response.ParseFromArray(buffer.data() + *pos + 4, static_cast<int>(n)))
      Fail("the daemon sent an unparsable response frame");
    if (!*hello_seen) {
      CheckHelloReply(response);
      *hello_seen = true;
    }
    *pos += 4 + n;
  }
}

// Writes Hello and then input on fd while reading (and checking) what comes
// back, then shuts the write side and reads until the daemon closes (or,
// when it has stopped reading this connection, until nothing comes for
// 20 ms).
void Feed(int fd, const uint8_t* data, size_t size) {
  // One buffer, so that the daemon usually gets both in one read.
  std::string out = Serialize(Hello());
  out.append(reinterpret_cast<const char*>(data), size);
  std::string in;
  size_t checked = 0;
  bool hello_seen = false;
  size_t off = 0;
  char buf[16384];
  bool eof = false;
  const auto limit = Clock::now() + std::chrono::seconds(10);
  bool shut = false;
  while (!eof) {
    if (!shut && off == out.size()) {
      (void)::shutdown(fd, SHUT_WR);
      shut = true;
    }
    // Until the HelloReply (which the daemon sends as soon as it has read
    // the Hello) and while writing: the 10 s limit. Then, after the
    // shutdown: whatever comes within 20 ms of the last bytes (normally
    // the daemon's close).
    const bool idle_ok = shut && hello_seen;
    const auto deadline =
        idle_ok ? std::min(limit, Clock::now() + std::chrono::milliseconds(20))
                : limit;
    pollfd p{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
    const int n = ::poll(&p, 1, fuzz::MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail(std::string("poll: ") + std::strerror(errno));
    if (n == 0) {
      if (!hello_seen) Fail("no HelloReply within 10 s on the fuzzed connection");
      break;  // The daemon has stopped reading this connection.
    }
    if (p.revents & POLLIN) {
      const ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (r > 0) {
        in.append(buf, static_cast<size_t>(r));
        CheckResponses(in, &checked, &hello_seen);
        if (checked > (1 << 20)) {
          in.erase(0, checked);
          checked = 0;
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        eof = true;
      }
    }
    if (!shut && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = ::send(fd, out.data() + off, out.size() - off,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        off = out.size();  // The daemon closed: nothing more to write.
      }
    }
  }
  // The Hello is valid: the daemon answers it whatever follows.
  if (!hello_seen) Fail("no HelloReply on the fuzzed connection");
}

// Reads (and discards) what is left on fd until the daemon closes it, then
// closes fd.
void Finish(int fd) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  char buf[4096];
  for (;;) {
    const ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r == 0) break;
    if (r > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) break;
    if (!fuzz::WaitFor(fd, POLLIN, deadline))
      Fail("the daemon did not close a finished connection within 10 s");
  }
  ::close(fd);
}

v1::Request LivenessBatch() {
  v1::Request request;
  request.set_id(2);
  for (int64_t v : {41, 1}) {
    v1::Call* call = request.mutable_batch()->add_calls();
    call->set_object("fuzz.live");
    call->set_kind(v1::COUNTER);
    call->set_op(v == 41 ? v1::SET : v1::ADD);
    call->mutable_value()->set_int_value(v);
  }
  return request;
}

bool LivenessOk(const v1::Response& r) {
  return r.status().code() == v1::OK && r.has_batch() &&
         r.batch().replies_size() == 2 &&
         r.batch().replies(0).status().code() == v1::OK &&
         r.batch().replies(0).result().value().int_value() == 41 &&
         r.batch().replies(1).status().code() == v1::OK &&
         r.batch().replies(1).result().value().int_value() == 42;
}

// Destroys every object (through fd).
void DestroyAll(int fd) {
  v1::Request list;
  list.set_id(3);
  list.mutable_list_objects();
  const v1::Response objects = RoundTrip(fd, list);
  if (objects.status().code() != v1::OK) Fail("ListObjects failed");
  // Pipelined: all the DESTROYs in one write, then their answers.
  std::string frames;
  int n = 0;
  for (const v1::ObjectInfo& info : objects.objects().objects()) {
    v1::Request destroy;
    destroy.set_id(static_cast<uint64_t>(4 + n++));
    v1::Call* call = destroy.mutable_call();
    call->set_object(info.name());
    call->set_kind(info.kind());
    call->set_op(v1::DESTROY);
    frames += Serialize(destroy);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  if (!fuzz::WriteAll(fd, frames, deadline)) Fail("cannot send DESTROYs");
  std::string body;
  for (int i = 0; i < n; ++i) {
    if (!fuzz::ReadFrame(fd, &body, deadline))
      Fail("no answer within 10 s to a DESTROY");
  }
}

void CheckLiveness() {
  // Hello, the batch and the end of the stream in one go: the daemon
  // answers both and closes.
  int fd = Connect();
  const v1::Request batch = LivenessBatch();
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  if (!fuzz::WriteAll(fd, Serialize(Hello()) + Serialize(batch), deadline))
    Fail("cannot send the liveness requests");
  (void)::shutdown(fd, SHUT_WR);
  CheckHelloReply(ReadResponse(fd, deadline, "the liveness Hello"));
  v1::Response r = ReadResponse(fd, deadline, "the liveness batch");
  if (r.id() != batch.id())
    Fail("response " + r.ShortDebugString() + " to the liveness batch");
  Finish(fd);
  if (LivenessOk(r)) return;
  // The store cannot run it: empty it (through another fresh connection)
  // and try again.
  fd = Connect();
  if (!fuzz::WriteAll(fd, Serialize(Hello()), deadline))
    Fail("cannot send a Hello");
  CheckHelloReply(ReadResponse(fd, deadline, "a Hello"));
  DestroyAll(fd);
  r = RoundTrip(fd, batch);
  if (!LivenessOk(r))
    Fail("liveness request answered wrongly: " + r.ShortDebugString());
  (void)::shutdown(fd, SHUT_WR);
  Finish(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const int fd = Connect();
  Feed(fd, data, size);
  ::close(fd);
  CheckLiveness();
  return 0;
}
