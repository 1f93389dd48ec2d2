// SIGKILL under load: forked clients add to a counter, set unique dict
// keys, put and get queue items (some GETs parked until an item comes) and
// send batches, each recording what it sent and what was acknowledged; ipcd is killed at a random moment and restarted on the
// same state dir. Nothing acknowledged may be lost, and nothing never sent
// may appear:
//   counter:  acknowledged adds <= value <= sent adds
//   dict:     every acknowledged set present with its value; every key
//             present was sent, with the value sent
//   queue:    no item twice, none acknowledged as taken, none never sent;
//             every acknowledged put not acknowledged as taken is there,
//             except at most one item per GET still unanswered at the kill
//             (its taking may be in the log without its answer reaching
//             the client); each producer's items in the order it put them
//   batches:  each sets a key and adds 1 to a counter, both or neither: the
//             counter equals the number of keys; acknowledged ones are there
//
// Environment: IPCD_STATE_KILL_ITERATIONS (default 30), IPCD_STATE_KILL_SEED
// (default random; iteration i uses seed + i, and
// IPCD_STATE_KILL_SEED=<that> IPCD_STATE_KILL_ITERATIONS=1 repeats its
// choices), IPCD_STATE_KILL_FSYNC (default always). The last line printed
// is "state kill summary: ..." (tests/soak/ipcd_state_kill.sh reads it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "raw_client.h"
#include "spawn.h"
#include "state_support.h"
#include "support/daemon_process.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kClients = 3;
constexpr char kCounter[] = "kill-counter";
constexpr char kDict[] = "kill-dict";
constexpr char kQueue[] = "kill-queue";
constexpr char kBatchDict[] = "kill-batch-dict";
constexpr char kBatchCounter[] = "kill-batch-counter";

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

// One client's run, in a forked child: sends a random mix with up to
// `window` requests in flight, until the connection ends (the daemon's
// death). Writes its record to log_path, one line per event:
//   a+ N / a= N      add of N sent / acknowledged
//   s+ K / s= K      set of key K (value "v" + K) sent / acknowledged
//   p+ V / p= V      put of V sent / acknowledged
//   g+ / g= V / g0   get sent / acknowledged with V / acknowledged EMPTY
//   b+ K / b= K      batch (set key K, add 1) sent / acknowledged
//   E text           a response that is not one of those
//   X text           how the run ended
int LoadClient(const std::string& url, int index, uint64_t seed,
               const std::string& log_path) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::ostringstream log;
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(index));
  const size_t window = 1 + rng() % 4;
  const auto give_up = steady_clock::now() + seconds(60);
  struct Sent {
    char op;
    std::string arg;
  };
  std::deque<Sent> in_flight;
  auto client = BareClient::Open(url);
  if (!client.ok()) {
    log << "X open: " << client.status().ToString() << "\n";
  } else {
    uint64_t n = 0;
    for (;;) {
      bool ended = false;
      while (in_flight.size() < window) {
        const std::string id = "c" + std::to_string(index) + "-" + std::to_string(n++);
        const uint64_t pick = rng() % 100;
        Sent sent;
        v1::Call call;
        v1::Batch batch;
        if (pick < 25) {
          sent = {'a', std::to_string(1 + rng() % 5)};
          call = CounterAdd(kCounter, std::stoll(sent.arg));
        } else if (pick < 50) {
          sent = {'s', id};
          call = DictSet(kDict, id, StringValue("v" + id));
        } else if (pick < 70) {
          sent = {'p', id};
          call = QueuePut(kQueue, StringValue(id));
        } else if (pick < 85) {
          sent = {'g', ""};
          call = MakeCall(kQueue, v1::QUEUE, v1::GET);
          // Half of them park until an item comes (or 20 ms pass).
          call.set_timeout_ms(rng() % 2 == 0 ? 0 : 20);
        } else {
          sent = {'b', id};
          *batch.add_calls() = DictSet(kBatchDict, id, StringValue("v" + id));
          *batch.add_calls() = CounterAdd(kBatchCounter, 1);
        }
        log << sent.op << "+ " << sent.arg << "\n";
        in_flight.push_back(sent);
        auto s = sent.op == 'b' ? client->SendBatch(batch) : client->SendCall(call);
        if (!s.ok()) {
          log << "X send: " << s.status().ToString() << "\n";
          ended = true;
          break;
        }
      }
      if (ended) break;
      auto response = client->Receive(10000);
      if (!response.ok()) {
        log << "X receive: " << response.status().ToString() << "\n";
        break;
      }
      const Sent sent = in_flight.front();
      in_flight.pop_front();
      v1::Code code = CodeOf(*response);
      if (code == v1::OK && sent.op == 'b') {
        for (const v1::CallReply& reply : response->batch().replies()) {
          if (reply.status().code() != v1::OK) code = reply.status().code();
        }
        if (response->batch().replies_size() != 2) code = v1::INTERNAL;
      }
      if (code == v1::OK && sent.op == 'g') {
        log << "g= " << response->result().value().string_value() << "\n";
      } else if (code == v1::EMPTY && sent.op == 'g') {
        log << "g0\n";
      } else if (code == v1::OK) {
        log << sent.op << "= " << sent.arg << "\n";
      } else {
        log << "E " << sent.op << " " << sent.arg << ": " << v1::Code_Name(code) << " "
            << response->status().message() << "\n";
      }
      if (steady_clock::now() > give_up) {
        log << "X the daemon was not killed within 60 s\n";
        break;
      }
    }
  }
  return WriteWholeFile(log_path, log.str()) ? 0 : 1;
}

// What the clients recorded, together.
struct Record {
  int64_t sent_adds = 0, acked_adds = 0;
  std::map<std::string, std::string> sent_sets, acked_sets;  // key -> value
  std::set<std::string> sent_puts, acked_puts, acked_gets;
  std::set<std::string> sent_batches, acked_batches;
  int sent_gets = 0, answered_gets = 0;
  std::vector<std::string> errors;  // E and unexpected X lines.
  std::map<std::string, std::vector<std::string>> puts_by_client;  // In order.
};

void ReadClientLog(const std::string& path, int index, Record* r) {
  std::istringstream in(ReadFile(path));
  bool ended = false;
  for (std::string line; std::getline(in, line);) {
    const std::string op = line.substr(0, 2);
    const std::string arg = line.size() > 3 ? line.substr(3) : "";
    if (op == "a+") r->sent_adds += std::stoll(arg);
    else if (op == "a=") r->acked_adds += std::stoll(arg);
    else if (op == "s+") r->sent_sets[arg] = "v" + arg;
    else if (op == "s=") r->acked_sets[arg] = "v" + arg;
    else if (op == "p+") {
      r->sent_puts.insert(arg);
      r->puts_by_client["c" + std::to_string(index)].push_back(arg);
    } else if (op == "p=") r->acked_puts.insert(arg);
    else if (op == "g+") ++r->sent_gets;
    else if (op == "b+") r->sent_batches.insert(arg);
    else if (op == "b=") r->acked_batches.insert(arg);
    else if (op == "g=") {
      ++r->answered_gets;
      if (!r->acked_gets.insert(arg).second) {
        r->errors.push_back("item " + arg + " was taken twice");
      }
    } else if (op == "g0") ++r->answered_gets;
    else if (op == "E ") r->errors.push_back("client " + std::to_string(index) + ": " + line);
    else if (op == "X ") {
      ended = true;
      // The daemon's death shows as a closed connection (or a reset).
      if (line.find("Closed") == std::string::npos && line.find("closed") == std::string::npos &&
          line.find("reset") == std::string::npos && line.find("Broken pipe") == std::string::npos) {
        r->errors.push_back("client " + std::to_string(index) + " ended: " + line);
      }
    }
  }
  if (!ended) r->errors.push_back("client " + std::to_string(index) + " left no end line");
}

struct Outcome {
  std::vector<std::string> violations;
  std::string summary;
};

Outcome RunIteration(uint64_t seed, const std::string& fsync) {
  Outcome out;
  std::mt19937_64 rng(seed);
  const int delay_ms = static_cast<int>(rng() % 300);
  const bool small_snapshots = rng() % 2 == 1;
  TempDir work;
  const std::string state = work.File("state");
  if (!MakeDir(state)) {
    out.violations.push_back("cannot make " + state);
    return out;
  }
  std::vector<std::string> flags = {"--state-dir", state, "--fsync", fsync};
  if (small_snapshots) flags.insert(flags.end(), {"--snapshot-after-bytes", "4096"});

  Record r;
  {
    DaemonProcess daemon = DaemonProcess::Start(flags);
    if (daemon.pid() <= 0) {
      out.violations.push_back("the daemon did not start");
      return out;
    }
    std::vector<pid_t> children;
    for (int i = 0; i < kClients; ++i) {
      const std::string url = daemon.url(), log = work.File("client-" + std::to_string(i));
      children.push_back(ForkChild([=] { return LoadClient(url, i, seed, log); }));
    }
    {
      // All connected (the probe is one more client), then the random wait.
      RawClient probe = RawClient::Open(daemon.url());
      const auto until = steady_clock::now() + seconds(10);
      while (probe.Stats().stats().clients() < kClients + 1 && steady_clock::now() < until) {
        std::this_thread::sleep_for(milliseconds(1));
      }
    }
    std::this_thread::sleep_for(milliseconds(delay_ms));  // The kill moment.
    daemon.Kill();
    for (int i = 0; i < kClients; ++i) {
      const int rc = WaitChild(children[static_cast<size_t>(i)], 15000);
      if (rc != 0) out.violations.push_back("client " + std::to_string(i) + " exit " + std::to_string(rc));
      ReadClientLog(work.File("client-" + std::to_string(i)), i, &r);
    }
  }
  for (const std::string& e : r.errors) out.violations.push_back(e);

  DaemonProcess daemon = DaemonProcess::Start(flags);
  if (daemon.pid() <= 0) {
    out.violations.push_back("the daemon did not restart on the state dir");
    return out;
  }
  RawClient c = RawClient::Open(daemon.url());

  // Counter.
  const v1::Response counter = c.Call(MakeCall(kCounter, v1::COUNTER, v1::GET));
  const int64_t value = counter.result().value().int_value();
  if (value < r.acked_adds || value > r.sent_adds) {
    out.violations.push_back("counter " + std::to_string(value) + " outside [acknowledged " +
                             std::to_string(r.acked_adds) + ", sent " +
                             std::to_string(r.sent_adds) + "]");
  }

  // Dict.
  v1::Call items_call = MakeCall(kDict, v1::DICT, v1::ITEMS);
  std::map<std::string, std::string> present;
  const v1::Response items = c.Call(items_call);
  for (const v1::Entry& e : items.result().items()) {
    present[e.key()] = e.value().string_value();
  }
  int lost_sets = 0;
  for (const auto& [key, v] : r.acked_sets) {
    auto it = present.find(key);
    if (it == present.end() || it->second != v) {
      if (++lost_sets <= 5) out.violations.push_back("acknowledged set of '" + key + "' lost");
    }
  }
  if (lost_sets > 5) out.violations.push_back(std::to_string(lost_sets) + " acknowledged sets lost");
  for (const auto& [key, v] : present) {
    auto it = r.sent_sets.find(key);
    if (it == r.sent_sets.end() || it->second != v) {
      out.violations.push_back("dict holds '" + key + "' = '" + v + "', never sent");
    }
  }

  // Batches: all or nothing.
  const v1::Response batch_items = c.Call(MakeCall(kBatchDict, v1::DICT, v1::ITEMS));
  std::set<std::string> batch_keys;
  for (const v1::Entry& e : batch_items.result().items()) {
    batch_keys.insert(e.key());
    if (!r.sent_batches.count(e.key()) || e.value().string_value() != "v" + e.key()) {
      out.violations.push_back("batch dict holds '" + e.key() + "', never sent");
    }
  }
  for (const std::string& key : r.acked_batches) {
    if (!batch_keys.count(key)) out.violations.push_back("acknowledged batch " + key + " lost");
  }
  const int64_t batch_count =
      c.Call(MakeCall(kBatchCounter, v1::COUNTER, v1::GET)).result().value().int_value();
  if (batch_count != static_cast<int64_t>(batch_keys.size())) {
    out.violations.push_back("half a batch: its counter is " + std::to_string(batch_count) +
                             ", its dict has " + std::to_string(batch_keys.size()) + " keys");
  }

  // Queue.
  std::vector<std::string> content;
  for (const v1::Value& v : DrainQueue(c, kQueue)) content.push_back(v.string_value());
  std::set<std::string> in_queue;
  for (const std::string& item : content) {
    if (!in_queue.insert(item).second) out.violations.push_back("item " + item + " twice in the queue");
    if (!r.sent_puts.count(item)) out.violations.push_back("item " + item + " never put");
    if (r.acked_gets.count(item)) {
      out.violations.push_back("item " + item + " acknowledged as taken is back in the queue");
    }
  }
  const int unanswered_gets = r.sent_gets - r.answered_gets;
  std::vector<std::string> missing;
  for (const std::string& item : r.acked_puts) {
    if (!r.acked_gets.count(item) && !in_queue.count(item)) missing.push_back(item);
  }
  if (static_cast<int>(missing.size()) > unanswered_gets) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += " " + missing[i];
    out.violations.push_back(std::to_string(missing.size()) +
                             " acknowledged puts neither taken nor in the queue (" +
                             std::to_string(unanswered_gets) + " gets unanswered):" + list);
  }
  // Each client's items keep the order it put them in.
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < content.size(); ++i) position[content[i]] = i;
  for (const auto& [client, puts] : r.puts_by_client) {
    size_t last = 0;
    bool first = true;
    for (const std::string& item : puts) {
      auto it = position.find(item);
      if (it == position.end()) continue;
      if (!first && it->second < last) {
        out.violations.push_back("queue order: " + item + " comes before an earlier put of " + client);
        break;
      }
      last = it->second;
      first = false;
    }
  }
  const int stop = daemon.Stop();
  if (stop != 0) out.violations.push_back("the restarted daemon exited " + std::to_string(stop));
  if (!out.violations.empty()) out.violations.push_back("restarted daemon's log:\n" + daemon.Stderr());

  std::ostringstream s;
  s << "delay " << delay_ms << " ms" << (small_snapshots ? ", 4 KiB snapshots" : "")
    << ": adds " << r.acked_adds << "/" << r.sent_adds << " -> " << value << ", sets "
    << r.acked_sets.size() << "/" << r.sent_sets.size() << " -> " << present.size() << ", puts "
    << r.acked_puts.size() << "/" << r.sent_puts.size() << ", gets " << r.acked_gets.size()
    << " (+" << unanswered_gets << " unanswered) -> queue " << content.size() << ", batches "
    << r.acked_batches.size() << "/" << r.sent_batches.size() << " -> " << batch_keys.size();
  out.summary = s.str();
  return out;
}

TEST(StateKillTest, NoAcknowledgedChangeIsLostToSigkill) {
  const uint64_t iterations = EnvNumber("IPCD_STATE_KILL_ITERATIONS", 30);
  const uint64_t seed = EnvNumber("IPCD_STATE_KILL_SEED", std::random_device{}());
  const char* fsync_env = std::getenv("IPCD_STATE_KILL_FSYNC");
  const std::string fsync = fsync_env && *fsync_env ? fsync_env : "always";
  std::printf("state kill: %llu iterations, fsync %s, seed %llu\n",
              static_cast<unsigned long long>(iterations), fsync.c_str(),
              static_cast<unsigned long long>(seed));
  uint64_t failed_iterations = 0, violations = 0;
  const auto start = steady_clock::now();
  for (uint64_t i = 0; i < iterations; ++i) {
    const uint64_t iteration_seed = seed + i;
    const Outcome o = RunIteration(iteration_seed, fsync);
    std::printf("iteration %llu (seed %llu) %s: %s\n", static_cast<unsigned long long>(i),
                static_cast<unsigned long long>(iteration_seed),
                o.violations.empty() ? "ok" : "VIOLATION", o.summary.c_str());
    std::fflush(stdout);
    if (!o.violations.empty()) {
      ++failed_iterations;
      violations += o.violations.size();
      std::string all;
      for (const std::string& v : o.violations) all += "\n  " + v;
      ADD_FAILURE() << "iteration " << i << " (IPCD_STATE_KILL_SEED=" << iteration_seed
                    << " IPCD_STATE_KILL_ITERATIONS=1 IPCD_STATE_KILL_FSYNC=" << fsync
                    << "):" << all;
    }
  }
  const double took =
      std::chrono::duration<double>(steady_clock::now() - start).count();
  std::printf("state kill summary: fsync %s seed %llu iterations %llu failed_iterations %llu "
              "violations %llu seconds %.1f\n",
              fsync.c_str(), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(iterations),
              static_cast<unsigned long long>(failed_iterations),
              static_cast<unsigned long long>(violations), took);
}

}  // namespace
}  // namespace ipc::testing
