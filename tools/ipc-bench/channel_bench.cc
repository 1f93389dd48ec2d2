#include "channel_bench.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ipc/channel.h"
#include "two_processes.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kSetupTimeout = std::chrono::seconds(10);

// url with ".back" added to its path (before any query).
std::string BackUrl(const std::string& url) {
  const size_t query = url.find('?');
  if (query == std::string::npos) return url + ".back";
  return url.substr(0, query) + ".back" + url.substr(query);
}

// One process's ends: for a duplex transport a single channel; for a
// one-way transport the channel it receives on and the one it sends on.
struct Ends {
  ipc::Channel own;    // Duplex, or the one we receive on.
  ipc::Channel extra;  // One-way only: the one we send on.
  ipc::Channel& send() { return extra.is_open() ? extra : own; }
  ipc::Channel& receive() { return own; }
};

// Everything the parent prepares before fork: listeners or the pipe pair.
struct Setup {
  bool pipe = false;
  bool duplex = true;
  std::pair<ipc::Channel, ipc::Channel> pipe_ends;
  ipc::Listener listener;  // The parent receives here.
  std::string url;         // Where the child connects (port filled in).
};

ipc::Result<Setup> Prepare(const Options& o) {
  Setup s;
  IPC_ASSIGN_OR_RETURN(ipc::Capabilities caps, ipc::TransportCapabilities(o.url));
  s.duplex = caps.duplex;
  if (caps.scheme == "pipe") {
    s.pipe = true;
    IPC_ASSIGN_OR_RETURN(s.pipe_ends, ipc::Pipe());
    return s;
  }
  IPC_ASSIGN_OR_RETURN(s.listener, ipc::Listen(o.url));
  s.url = s.listener.url();
  return s;
}

ipc::Result<Ends> ParentEnds(Setup& s, bool need_send) {
  Ends e;
  if (s.pipe) {
    e.own = std::move(s.pipe_ends.first);
    return e;
  }
  IPC_ASSIGN_OR_RETURN(e.own, s.listener.Accept(kSetupTimeout));
  if (!s.duplex && need_send) {
    IPC_ASSIGN_OR_RETURN(e.extra, ipc::Connect(BackUrl(s.url), kSetupTimeout));
  }
  return e;
}

ipc::Result<Ends> ChildEnds(Setup& s, bool need_receive) {
  Ends e;
  if (s.pipe) {
    e.own = std::move(s.pipe_ends.second);
    return e;
  }
  s.listener.Close();  // The parent's; not ours to keep.
  if (!s.duplex && need_receive) {
    // Echoes come back on a second one-way channel, which we listen on.
    IPC_ASSIGN_OR_RETURN(ipc::Listener back, ipc::Listen(BackUrl(s.url)));
    IPC_ASSIGN_OR_RETURN(e.extra, ipc::Connect(s.url, kSetupTimeout));
    IPC_ASSIGN_OR_RETURN(e.own, back.Accept(kSetupTimeout));
    return e;
  }
  IPC_ASSIGN_OR_RETURN(e.own, ipc::Connect(s.url, kSetupTimeout));
  return e;
}

ipc::Result<Measurement> PingPong(const Options& o) {
  IPC_ASSIGN_OR_RETURN(Setup setup, Prepare(o));
  const long total = o.warmup + o.count;
  std::vector<int64_t> rtt;
  rtt.reserve(o.count);
  Measurement m;
  m.what = "channel";
  ipc::Status status = RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        IPC_ASSIGN_OR_RETURN(Ends ends, ParentEnds(setup, /*need_send=*/true));
        const std::string message(o.size, 'p');
        std::string reply;
        // The child speaks first, so that a listener that can only answer
        // (udp) knows whom to ping.
        IPC_RETURN_IF_ERROR(ends.receive().Receive(&reply, kSetupTimeout));
        for (long i = 0; i < total; ++i) {
          const auto start = Clock::now();
          IPC_RETURN_IF_ERROR(ends.send().Send(message));
          IPC_RETURN_IF_ERROR(ends.receive().Receive(&reply));
          if (i >= o.warmup) {
            rtt.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              Clock::now() - start).count());
          }
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        auto ends = ChildEnds(setup, /*need_receive=*/true);
        if (!ends.ok() || !ends->send().Send("ready").ok()) return 10;
        std::string message;
        for (long i = 0; i < total; ++i) {
          if (!ends->receive().Receive(&message).ok()) return 11;
          if (!ends->send().Send(message).ok()) return 12;
        }
        return 0;
      });
  IPC_RETURN_IF_ERROR(status);
  SetPercentiles(rtt, &m);
  return m;
}

// Reads every byte of a message (--touch), so that the work a consumer
// does is part of the measurement.
uint64_t ReadAll(std::string_view message) {
  uint64_t sum = 0;
  for (const char c : message) sum += static_cast<unsigned char>(c);
  return sum;
}

// Receives one message the way the options say; *view is valid until the
// next call.
ipc::Status ReceiveOne(const Options& o, ipc::Channel& ch, ipc::Deadline deadline,
                       std::string* buffer, std::string_view* view) {
  if (o.views) {
    IPC_ASSIGN_OR_RETURN(*view, ch.ReceiveView(deadline));
    return ipc::Status::Ok();
  }
  IPC_RETURN_IF_ERROR(ch.Receive(buffer, deadline));
  *view = *buffer;
  return ipc::Status::Ok();
}

// Sends message i the way the options say; with --touch its bytes are
// written anew for each message (in place when loaned).
ipc::Status SendOne(const Options& o, ipc::Channel& ch, long i, std::string* buffer) {
  const int fill = static_cast<int>(i & 0xff);
  if (o.views) {
    IPC_ASSIGN_OR_RETURN(std::span<char> room, ch.Loan(o.size));
    if (o.touch) std::memset(room.data(), fill, room.size());
    return ch.Commit(o.size);
  }
  if (o.touch) std::memset(buffer->data(), fill, buffer->size());
  return ch.Send(*buffer);
}

ipc::Result<Measurement> Stream(const Options& o) {
  IPC_ASSIGN_OR_RETURN(Setup setup, Prepare(o));
  IPC_ASSIGN_OR_RETURN(ipc::Capabilities caps, ipc::TransportCapabilities(o.url));
  const long total = o.warmup + o.count;
  Measurement m;
  m.what = "channel";
  ipc::Status status = RunInTwoProcesses(
      o.cpus,
      [&]() -> ipc::Status {
        IPC_ASSIGN_OR_RETURN(Ends ends, ParentEnds(setup, /*need_send=*/false));
        std::string message;
        std::string_view view;
        uint64_t checksum = 0;
        Clock::time_point start;
        long received = 0;
        for (long i = 0; i < total; ++i) {
          // A best-effort transport may lose messages: stop when quiet.
          ipc::Status s = ReceiveOne(
              o, ends.receive(),
              caps.reliable ? ipc::Deadline::Infinite()
                            : ipc::Deadline(std::chrono::milliseconds(500)),
              &message, &view);
          if (!caps.reliable && s.code() == ipc::ErrorCode::kDeadlineExceeded) break;
          IPC_RETURN_IF_ERROR(s);
          if (o.touch) checksum += ReadAll(view);
          if (i == o.warmup) start = Clock::now();
          if (i >= o.warmup) ++received;
        }
        const double seconds =
            std::chrono::duration<double>(Clock::now() - start).count();
        // Keeps the reads: a sum nobody looks at could be optimised away.
        if (o.touch && checksum == 1) std::fputs("", stderr);
        m.received = received;
        if (received > 1 && seconds > 0) {
          m.msgs_per_s = received / seconds;
          m.bytes_per_s = m.msgs_per_s * static_cast<double>(o.size);
        }
        return ipc::Status::Ok();
      },
      [&]() -> int {
        auto ends = ChildEnds(setup, /*need_receive=*/false);
        if (!ends.ok()) return 10;
        std::string message(o.size, 's');
        for (long i = 0; i < total; ++i) {
          if (!SendOne(o, ends->send(), i, &message).ok()) return 11;
        }
        return 0;
      });
  IPC_RETURN_IF_ERROR(status);
  return m;
}

}  // namespace

ipc::Result<Measurement> MeasureChannel(const Options& options) {
  return options.mode == Mode::kPingPong ? PingPong(options) : Stream(options);
}

}  // namespace bench
