#include "measurement.h"

#include <algorithm>
#include <cstdio>

namespace bench {

void SetPercentiles(std::vector<int64_t>& rtt_ns, Measurement* m) {
  if (rtt_ns.empty()) return;
  std::sort(rtt_ns.begin(), rtt_ns.end());
  auto at = [&](double q) {
    return static_cast<double>(rtt_ns[static_cast<size_t>(q * (rtt_ns.size() - 1))]);
  };
  m->p50_ns = at(0.50);
  m->p99_ns = at(0.99);
  m->p999_ns = at(0.999);
}

namespace {

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string JsonFigures(const Options& o, const Measurement& m) {
  char buf[256];
  if (o.mode == Mode::kPingPong) {
    std::snprintf(buf, sizeof(buf),
                  "\"rtt_ns\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f}",
                  m.p50_ns, m.p99_ns, m.p999_ns);
  } else {
    std::snprintf(buf, sizeof(buf),
                  "\"msgs_per_s\":%.0f,\"bytes_per_s\":%.0f,\"received\":%ld",
                  m.msgs_per_s, m.bytes_per_s, m.received);
  }
  return buf;
}

// channel / baseline: latency ratio for pingpong (lower is better), rate
// ratio for stream (higher is better).
double Ratio(const Options& o, const Measurement& channel, const Measurement& base) {
  if (o.mode == Mode::kPingPong) return base.p50_ns > 0 ? channel.p50_ns / base.p50_ns : 0;
  return base.msgs_per_s > 0 ? channel.msgs_per_s / base.msgs_per_s : 0;
}

// Stream bandwidth as a fraction of one thread's memcpy of the same size.
double MemcpyRatio(const Measurement& channel, const Floor& floor) {
  return floor.memcpy_gb_per_s > 0 ? channel.bytes_per_s / 1e9 / floor.memcpy_gb_per_s : 0;
}

void PrintHumanLine(const Options& o, const char* label, const Measurement& m) {
  if (o.mode == Mode::kPingPong) {
    std::printf("  %-9s p50 %9.2f us   p99 %9.2f us   p99.9 %9.2f us   (%s)\n",
                label, m.p50_ns / 1e3, m.p99_ns / 1e3, m.p999_ns / 1e3, m.what.c_str());
  } else {
    std::printf("  %-9s %12.0f msgs/s   %9.1f MB/s   received %ld   (%s)\n", label,
                m.msgs_per_s, m.bytes_per_s / 1e6, m.received, m.what.c_str());
  }
}

}  // namespace

void PrintReport(const Options& o, const Measurement& channel,
                 const std::optional<Measurement>& baseline,
                 const std::optional<Floor>& floor) {
  const char* mode = o.mode == Mode::kPingPong ? "pingpong" : "stream";
  std::string cpus = o.cpus.empty() ? "none"
                                    : std::to_string(o.cpus[0]) + "," + std::to_string(o.cpus[1]);
  if (o.json) {
    std::printf("{\"url\":\"%s\",\"mode\":\"%s\",\"size\":%zu,\"count\":%ld,"
                "\"cpus\":\"%s\",%s",
                JsonEscape(o.url).c_str(), mode, o.size, o.count, cpus.c_str(),
                JsonFigures(o, channel).c_str());
    if (baseline) {
      std::printf(",\"baseline\":{\"what\":\"%s\",%s},\"ratio\":%.3f",
                  JsonEscape(baseline->what).c_str(), JsonFigures(o, *baseline).c_str(),
                  Ratio(o, channel, *baseline));
    }
    if (floor) {
      std::printf(",\"floor\":{\"cacheline_rtt_ns\":%.0f,\"memcpy_gb_per_s\":%.1f,"
                  "\"memcpy_size\":%zu}",
                  floor->cacheline_rtt_ns, floor->memcpy_gb_per_s, floor->memcpy_size);
      if (o.mode == Mode::kStream) {
        std::printf(",\"memcpy_ratio\":%.3f", MemcpyRatio(channel, *floor));
      }
    }
    std::printf("}\n");
    return;
  }
  std::printf("ipc-bench %s %s size=%zu count=%ld cpus=%s\n", o.url.c_str(), mode,
              o.size, o.count, cpus.c_str());
  PrintHumanLine(o, "channel", channel);
  if (baseline) {
    PrintHumanLine(o, "baseline", *baseline);
    std::printf("  ratio     %.3f  (channel/baseline: %s)\n", Ratio(o, channel, *baseline),
                o.mode == Mode::kPingPong ? "p50 latency, lower is better"
                                          : "msgs/s, higher is better");
  }
  if (floor) {
    std::printf("  floor     cache-line round trip %.0f ns, memcpy of %zu B %.1f GB/s\n",
                floor->cacheline_rtt_ns, floor->memcpy_size, floor->memcpy_gb_per_s);
    if (o.mode == Mode::kStream) {
      std::printf("  channel / memcpy bandwidth %.3f\n", MemcpyRatio(channel, *floor));
    }
  }
}

}  // namespace bench
