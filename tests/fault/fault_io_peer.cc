// One end of short_io_test's streams, run as its own program so that the
// LD_PRELOAD shim (short_io_shim.c) applies to it and not to the test.
//
//   fault_io_peer listen|connect|adopt send|recv duplex(0|1) URL COUNT SEED
//
// It listens on (or connects to) URL (adopt: connects, but plays the
// listening side's stream, for the second end of a pipe:), then sends or
// receives COUNT messages (see below); with duplex 1 it then does the other
// direction. Every message's size and bytes follow from (seed, index), so the
// receiver compares each one whole with what it must be: a lost, duplicated,
// reordered or torn message is a mismatch, reported with its index. The
// send and receive calls rotate through the blocking, deadline,
// non-blocking and batched forms, so each one's EINTR and partial-I/O
// handling is exercised. Exit code 0: everything matched.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ipc/channel.h"

namespace {

using namespace std::chrono_literals;

uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Message i of a stream: 0 bytes first, 256 KiB last, mostly small ones in
// between with some of up to 256 KiB; from 8 bytes on it starts with i.
std::string Expected(uint64_t seed, uint64_t i, uint64_t count) {
  const uint64_t r = Mix(seed * 1000003 + i);
  size_t size;
  if (i == 0) {
    size = 0;
  } else if (i + 1 == count) {
    size = 256 * 1024;
  } else {
    const uint64_t cls = r % 32, v = Mix(r);
    size = cls < 20   ? v % 300
           : cls < 28 ? v % 8192
           : cls < 31 ? v % 65536
                      : v % (256 * 1024 + 1);
  }
  std::string m(size, '\0');
  uint64_t x = r;
  for (size_t at = 0; at < size; at += 8) {
    x = Mix(x);
    std::memcpy(m.data() + at, &x, std::min<size_t>(8, size - at));
  }
  if (size >= 8) std::memcpy(m.data(), &i, 8);
  return m;
}

bool Fail(const char* what, const ipc::Status& s) {
  std::fprintf(stderr, "fault_io_peer %d: %s: %s\n",
               static_cast<int>(::getpid()), what, s.ToString().c_str());
  return false;
}

void WaitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  (void)::poll(&p, 1, 100);  // EINTR or timeout: the caller tries again.
}

bool SendAll(ipc::Channel& ch, uint64_t seed, uint64_t count) {
  for (uint64_t i = 0; i < count; ++i) {
    const std::string m = Expected(seed, i, count);
    ipc::Status s;
    switch (i % 4) {
      case 0:
        s = ch.Send(m);
        break;
      case 1:
        s = ch.Send(m, 30s);
        break;
      case 2:  // Non-blocking: may leave a tail for Flush (or the next Send).
        for (;;) {
          s = ch.TrySend(m);
          if (s.code() != ipc::ErrorCode::kWouldBlock) break;
          ::usleep(200);
        }
        break;
      case 3:  // Batched, written by the next Send or the final Flush.
        s = ch.SendBuffered(m);
        if (s.code() == ipc::ErrorCode::kUnsupported) s = ch.Send(m);
        break;
    }
    if (!s.ok()) return Fail(("send #" + std::to_string(i)).c_str(), s);
  }
  const ipc::Status s = ch.Flush(30s);
  return s.ok() || Fail("flush", s);
}

bool Check(const std::string& got, uint64_t seed, uint64_t i, uint64_t count) {
  const std::string want = Expected(seed, i, count);
  if (got == want) return true;
  uint64_t tag = 0;
  if (got.size() >= 8) std::memcpy(&tag, got.data(), 8);
  std::fprintf(stderr,
               "fault_io_peer: message #%llu: got %zu bytes (tag %llu), want "
               "%zu bytes\n",
               static_cast<unsigned long long>(i), got.size(),
               static_cast<unsigned long long>(tag), want.size());
  return false;
}

bool ReceiveAll(ipc::Channel& ch, uint64_t seed, uint64_t count) {
  std::string got;
  std::vector<std::string> batch;
  for (uint64_t i = 0; i < count;) {
    ipc::Status s;
    switch (i % 4) {
      case 0:
        s = ch.Receive(&got);
        break;
      case 1:
        s = ch.Receive(&got, 30s);
        break;
      case 2:
        while ((s = ch.Receive(&got, ipc::Deadline::Now())).code() ==
               ipc::ErrorCode::kWouldBlock) {
          WaitReadable(ch.fd());
        }
        break;
      case 3: {
        batch.clear();
        while ((s = ch.ReceiveAvailable(&batch, count - i)).code() ==
               ipc::ErrorCode::kWouldBlock) {
          WaitReadable(ch.fd());
        }
        if (!s.ok()) break;
        for (const std::string& m : batch) {
          if (!Check(m, seed, i++, count)) return false;
        }
        continue;
      }
    }
    if (!s.ok()) return Fail(("receive #" + std::to_string(i)).c_str(), s);
    if (!Check(got, seed, i++, count)) return false;
  }
  // Nothing more: the peer sent exactly count messages.
  auto extra = ch.Receive(300ms);
  if (extra.ok()) {
    std::fprintf(stderr, "fault_io_peer: a message beyond the %llu sent\n",
                 static_cast<unsigned long long>(count));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(
        stderr,
        "usage: %s listen|connect|adopt send|recv duplex URL COUNT SEED\n",
        argv[0]);
    return 2;
  }
  const bool listen = std::strcmp(argv[1], "listen") == 0;
  const bool adopt = std::strcmp(argv[1], "adopt") == 0;
  const bool send_first = std::strcmp(argv[2], "send") == 0;
  const bool duplex = std::strcmp(argv[3], "1") == 0;
  const std::string url = argv[4];
  const uint64_t count = std::strtoull(argv[5], nullptr, 10);
  const uint64_t seed = std::strtoull(argv[6], nullptr, 10);

  ipc::Channel ch;
  ipc::Listener listener;
  if (listen) {
    auto l = ipc::Listen(url);
    if (!l.ok()) return Fail("listen", l.status()) ? 0 : 3;
    listener = std::move(*l);
    // Tells the test that connecting may begin.
    std::printf("ready %s\n", listener.url().c_str());
    std::fflush(stdout);
    auto c = listener.Accept(30s);
    if (!c.ok()) return Fail("accept", c.status()) ? 0 : 3;
    ch = std::move(*c);
  } else {
    auto c = ipc::Connect(url, 30s);
    if (!c.ok()) return Fail("connect", c.status()) ? 0 : 3;
    ch = std::move(*c);
  }
  // The connecting side's stream is seed, the listening side's seed + 1.
  const uint64_t mine = listen || adopt ? seed + 1 : seed;
  const uint64_t theirs = listen || adopt ? seed : seed + 1;
  if (send_first) {
    if (!SendAll(ch, mine, count)) return 1;
    if (duplex && !ReceiveAll(ch, theirs, count)) return 1;
  } else {
    if (!ReceiveAll(ch, theirs, count)) return 1;
    if (duplex && !SendAll(ch, mine, count)) return 1;
  }
  // Whoever finishes last closes; closing waits for a kept tail to drain.
  ch.Close();
  return 0;
}
