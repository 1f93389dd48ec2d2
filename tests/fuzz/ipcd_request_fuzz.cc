// Fuzz target: ipcd's request path — frame reading, decoding, the
// dispatcher, the object store, parking, responses — fed arbitrary bytes by
// one client after a valid Hello.
//
// The real ipcd::Server runs in this process, on a thread of its own,
// listening on a unix socket in a temporary directory (limits lowered so
// that they are reachable). Each input:
//   1. a fresh connection says Hello and checks the HelloReply;
//   2. the input is written as is (the fuzzer picks the framing) while the
//      responses are read; then the write side is shut and the responses
//      are read until the daemon closes (or 20 ms pass). Every response
//      frame must parse as an ipcd.v1.Response with protobuf's default
//      recursion limit, as the daemon promises (see kMaxValueNesting);
//   3. liveness: another fresh connection says Hello and runs
//      Batch[counter SET 41, counter ADD 1], which must answer 41 and 42
//      within 10 s. If the fuzzed input left the store unable to run it
//      (the name taken by another kind, max_objects reached), every object
//      is destroyed and the batch must then succeed.
// Any violation, or a daemon that does not answer in time, aborts.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

// A fresh connection that has said Hello.
int Open() {
  const int fd = fuzz::ConnectUnix(SocketPath());
  if (fd < 0) Fail("cannot connect to the daemon");
  v1::Request hello;
  hello.set_id(1);
  hello.mutable_hello()->set_protocol_version(v1::PROTOCOL_VERSION_CURRENT);
  hello.mutable_hello()->set_client_name("fuzz");
  const v1::Response reply = RoundTrip(fd, hello);
  if (reply.status().code() != v1::OK || !reply.has_hello() ||
      reply.hello().protocol_version() != v1::PROTOCOL_VERSION_CURRENT ||
      reply.hello().auth_required()) {
    Fail("bad HelloReply: " + reply.ShortDebugString());
  }
  return fd;
}

// Checks the response frames in buffer[*pos..], advancing *pos past them.
void CheckResponses(const std::string& buffer, size_t* pos) {
  v1::Response response;
  while (buffer.size() - *pos >= 4) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
      n |= uint32_t{static_cast<uint8_t>(buffer[*pos + i])} << (8 * i);
    if (buffer.size() - *pos - 4 < n) return;
    if (!response.ParseFromArray(buffer.data() + *pos + 4, static_cast<int>(n)))
      Fail("the daemon sent an unparsable response frame");
    *pos += 4 + n;
  }
}

// Writes input on fd while reading (and checking) what comes back, then
// shuts the write side and reads until the daemon closes or 20 ms pass.
void Feed(int fd, const uint8_t* data, size_t size) {
  std::string in;
  size_t checked = 0;
  size_t off = 0;
  char buf[16384];
  bool eof = false;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  bool shut = false;
  while (!eof) {
    if (!shut && off == size) {
      (void)::shutdown(fd, SHUT_WR);
      shut = true;
      deadline = Clock::now() + std::chrono::milliseconds(20);
    }
    pollfd p{fd, static_cast<short>(POLLIN | (shut ? 0 : POLLOUT)), 0};
    const int n = ::poll(&p, 1, fuzz::MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // Timeout: the daemon may legitimately keep it open.
    if (p.revents & POLLIN) {
      const ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (r > 0) {
        in.append(buf, static_cast<size_t>(r));
        CheckResponses(in, &checked);
        if (checked > (1 << 20)) {
          in.erase(0, checked);
          checked = 0;
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        eof = true;
      }
    }
    if (!shut && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = ::send(fd, data + off, size - off,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        off = size;  // The daemon closed: nothing more to write.
      }
    }
  }
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
  const int fd = Open();
  const v1::Request batch = LivenessBatch();
  v1::Response r = RoundTrip(fd, batch);
  if (!LivenessOk(r)) {
    DestroyAll(fd);
    r = RoundTrip(fd, batch);
    if (!LivenessOk(r))
      Fail("liveness request answered wrongly: " + r.ShortDebugString());
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  const int fd = Open();
  Feed(fd, data, size);
  ::close(fd);
  CheckLiveness();
  return 0;
}
