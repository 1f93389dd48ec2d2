// kill_run: SIGKILLs libipc and ipcd participants at random moments and
// checks what the survivors see.
//
//   kill_run --case NAME|all [--iterations N] [--seed S] [--window-ms W]
//   kill_run --soak MINUTES [--clients K] [--seed S]
//   kill_run --list
//
// Each iteration forks the victim, kills it with SIGKILL after a delay drawn
// uniformly from [0, W) ms (so the kill lands anywhere from process start,
// through connect/open, to mid-stream), and checks invariants with bounded
// waits. Per case it prints: iterations; hangs (a bounded wait expired where
// the survivor should have proceeded); torn (a message or protected state
// seen half-written); lost (an acknowledged message or item never seen);
// miscounted (duplicates, out of order, counts that do not add up, unclear
// errors); left (entries in /dev/shm, or POSIX queues, carrying this run's
// unique prefix after the case). The target for every column is zero; the
// exit status is 1 otherwise. A run-wide watchdog aborts (exit 3, naming the
// case and iteration) if one iteration takes longer than 60 s.
//
// Soak mode: K client processes do random operations (channels over shm://,
// unix:// and mq://, Mutex, Semaphore, Queue, named-object create/unlink, and
// ipcd dict/counter/lock/queue calls) for MINUTES; each checks that its
// descriptor count and RSS after the run are back at their baseline (taken
// after a warm-up), the parent checks ipcd's descriptors and /dev/shm, and
// that queue items and ipcd counter adds add up.
//
// See docs/reliability.md for what each case proves.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ipc/barrier.h"
#include "ipc/channel.h"
#include "ipc/manager.h"
#include "ipc/mutex.h"
#include "ipc/queue.h"
#include "ipc/semaphore.h"
#include "ipc/shared_dict.h"

#ifndef IPCD_BINARY
#define IPCD_BINARY ""
#endif

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---------------------------------------------------------------- helpers

std::string g_prefix;       // Unique per run: every name we create has it.
std::string g_ipcd = IPCD_BINARY;
int g_window_ms = 25;

// Memory shared between the parent and the victims of one iteration.
struct Shared {
  std::atomic<uint64_t> connected;  // Victim finished connect/open.
  std::atomic<uint64_t> acked;      // Messages/items the victim saw succeed.
  std::atomic<uint64_t> received;   // Messages/items the victim received.
  std::atomic<uint64_t> torn;
  std::atomic<uint64_t> lost;
  std::atomic<uint64_t> misc;
  std::atomic<uint64_t> last_seq;
  std::atomic<uint64_t> holding;
  std::atomic<uint64_t> value_a;    // Protected state (Mutex case).
  std::atomic<uint64_t> value_b;
  std::atomic<uint64_t> errors;
  std::atomic<uint64_t> ops;
  std::atomic<uint64_t> stop;
  std::atomic<int64_t> aux[16];
  char text[256];
};

Shared* NewShared() {
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  return new (p) Shared();
}
void FreeShared(Shared* s) { munmap(s, sizeof(Shared)); }

struct Tally {
  uint64_t iterations = 0, hangs = 0, torn = 0, lost = 0, misc = 0, left = 0;
  std::map<std::string, uint64_t> info;  // Non-failure observations.
  std::vector<std::string> notes;        // First few failures, spelled out.
  void Note(uint64_t it, const std::string& what) {
    if (notes.size() < 8) notes.push_back("iteration " + std::to_string(it) + ": " + what);
  }
};

std::atomic<int64_t> g_iteration_started_ms{0};
std::string g_current = "";
std::atomic<uint64_t> g_current_iteration{0};

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
}

void StartWatchdog() {
  std::thread([] {
    for (;;) {
      std::this_thread::sleep_for(milliseconds(500));
      const int64_t started = g_iteration_started_ms.load();
      if (started != 0 && NowMs() - started > 60000) {
        fprintf(stderr, "kill_run: HANG: case %s iteration %" PRIu64 " ran over 60 s; aborting\n",
                g_current.c_str(), g_current_iteration.load());
        fflush(stderr);
        _exit(3);
      }
    }
  }).detach();
}

// The /dev/shm names carrying this run's prefix.
std::set<std::string> ShmEntries() {
  std::set<std::string> out;
  if (DIR* d = opendir("/dev/shm")) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.find(g_prefix) != std::string::npos) out.insert(n);
    }
    closedir(d);
  }
  return out;
}

int CountFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n - 1;  // The directory stream itself.
}

int CountFdsOf(pid_t pid) {
  int n = 0;
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

long RssKb(pid_t pid = 0) {
  std::string path = pid ? "/proc/" + std::to_string(pid) + "/status" : "/proc/self/status";
  FILE* f = fopen(path.c_str(), "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, nullptr, 10);
  }
  fclose(f);
  return kb;
}

// Forks body; the child never returns.
pid_t Fork(const std::function<int()>& body) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "kill_run child: exception: %s\n", e.what());
    }
    _exit(rc);
  }
  return pid;
}

// Waits for pid at most timeout; kills it after that. True if it exited in time.
bool Reap(pid_t pid, milliseconds timeout, int* status_out = nullptr) {
  const auto end = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (status_out) *status_out = status;
      return true;
    }
    if (r < 0) return true;
    if (Clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (status_out) *status_out = status;
      return false;
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
}

// Kills pid after a random delay in a thread; reaps it and sets reaped.
class Killer {
 public:
  Killer(pid_t pid, int delay_us) : pid_(pid) {
    thread_ = std::thread([this, delay_us] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      status_ = status;
      reaped_ = true;
    });
  }
  ~Killer() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  bool reaped() const { return reaped_; }
  // Exited on its own (not by our SIGKILL): an early failure of the victim.
  bool exited_early() const { return reaped_ && WIFEXITED(status_.load()); }
  int exit_code() const { return WEXITSTATUS(status_.load()); }

 private:
  pid_t pid_;
  std::thread thread_;
  std::atomic<bool> reaped_{false};
  std::atomic<int> status_{0};
};

// ------------------------------------------------------------- messages

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// [seq u64][len u32][sum u32][payload]: payload derived from seq.
std::string MakeMessage(uint64_t seq, size_t max_payload) {
  const size_t len = max_payload ? Mix(seq * 7 + 1) % (max_payload + 1) : 0;
  std::string m(16 + len, '\0');
  uint64_t x = Mix(seq + 0x9e3779b97f4a7c15ULL);
  for (size_t i = 0; i < len; ++i) {
    if (i % 8 == 0) x = Mix(x + i);
    m[16 + i] = static_cast<char>(x >> (8 * (i % 8)));
  }
  uint32_t sum = 2166136261u;
  for (size_t i = 16; i < m.size(); ++i) sum = (sum ^ static_cast<uint8_t>(m[i])) * 16777619u;
  sum ^= static_cast<uint32_t>(seq * 2654435761u);
  const uint32_t len32 = static_cast<uint32_t>(len);
  memcpy(&m[0], &seq, 8);
  memcpy(&m[8], &len32, 4);
  memcpy(&m[12], &sum, 4);
  return m;
}

// Whole and checksummed? Sets *seq.
bool CheckMessage(const std::string& m, uint64_t* seq) {
  if (m.size() < 16) return false;
  uint32_t len, sum;
  memcpy(seq, &m[0], 8);
  memcpy(&len, &m[8], 4);
  memcpy(&sum, &m[12], 4);
  if (m.size() != 16 + static_cast<size_t>(len)) return false;
  uint32_t s = 2166136261u;
  for (size_t i = 16; i < m.size(); ++i) s = (s ^ static_cast<uint8_t>(m[i])) * 16777619u;
  s ^= static_cast<uint32_t>(*seq * 2654435761u);
  return s == sum;
}

// Verifies received messages in order: counts torn, gaps (lost) and
// duplicates/reordering (misc).
struct SeqChecker {
  uint64_t expected = 0, received = 0, torn = 0, lost = 0, misc = 0;
  void See(const std::string& m) {
    uint64_t seq = 0;
    if (!CheckMessage(m, &seq)) {
      ++torn;
      return;
    }
    ++received;
    if (seq > expected) lost += seq - expected;
    if (seq < expected) ++misc;
    expected = seq + 1;
  }
};

// ---------------------------------------------------------- channel cases

struct ChannelSpec {
  std::string scheme;  // shm, mq, unix
  size_t max_payload;
};

std::string ChannelUrl(const std::string& scheme, const std::string& name) {
  if (scheme == "shm") return "shm://" + name + "?capacity=64K";
  if (scheme == "mq") return "mq:///" + name;
  return "unix:///tmp/" + name + ".sock";
}

// Accepts while the victim may still connect: gives up once it is dead and
// a last try found nothing, or counts a hang when it had connected and no
// channel came within 5 s.
ipc::Result<ipc::Channel> AcceptWhileAlive(ipc::Listener& l, const Killer& k, Shared* s,
                                           bool* hang) {
  const auto end = Clock::now() + std::chrono::seconds(5);
  bool last = false;
  for (;;) {
    auto ch = l.Accept(milliseconds(20));
    if (ch.ok() || ch.status().code() != ipc::ErrorCode::kDeadlineExceeded) return ch;
    if (last && !s->connected.load()) return ch;  // Died before connecting.
    if (k.reaped()) last = true;
    if (Clock::now() > end) {
      *hang = s->connected.load() != 0;
      return ch;
    }
  }
}

// The victim writes: it connects (or, for mq reader cases, listens) and sends
// numbered messages until killed; the parent reads them.
void WriterKilled(const ChannelSpec& spec, uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-w" + spec.scheme + "-" + std::to_string(it);
  const std::string url = ChannelUrl(spec.scheme, name);
  Shared* s = NewShared();
  auto l = ipc::Listen(url);
  if (!l.ok()) {
    t.misc++;
    t.Note(it, "Listen: " + l.status().ToString());
    FreeShared(s);
    return;
  }
  pid_t pid = Fork([&]() -> int {
    auto ch = ipc::Connect(url, std::chrono::seconds(5));
    if (!ch.ok()) return 2;
    s->connected = 1;
    for (uint64_t seq = 0;; ++seq) {
      std::string m = MakeMessage(seq, spec.max_payload);
      ipc::Status st = ch->Send(m, std::chrono::seconds(10));
      if (!st.ok()) return 3;
      s->acked = seq + 1;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  bool hang = false;
  auto ch = AcceptWhileAlive(*l, k, s, &hang);
  SeqChecker c;
  if (hang) {
    t.hangs++;
    t.Note(it, "Accept: no channel 5 s after the writer connected");
  } else if (ch.ok()) {
    std::string m;
    const auto end = Clock::now() + std::chrono::seconds(10);
    int64_t reaped_at = 0;
    for (;;) {
      ipc::Status st = ch->Receive(&m, milliseconds(200));
      if (st.ok()) {
        c.See(m);
        continue;
      }
      if (st.code() == ipc::ErrorCode::kClosed) break;
      if (st.code() == ipc::ErrorCode::kDeadlineExceeded) {
        if (k.reaped()) {
          if (!reaped_at) reaped_at = NowMs();
          if (NowMs() - reaped_at > 3000) {
            t.hangs++;
            t.Note(it, "Receive: no kClosed 3 s after the writer died (" + st.ToString() + ")");
            break;
          }
        }
        if (Clock::now() > end) {
          t.hangs++;
          t.Note(it, "Receive: no end within 10 s");
          break;
        }
        continue;
      }
      t.misc++;
      t.Note(it, "Receive: unexpected " + st.ToString());
      break;
    }
  } else if (s->connected.load()) {
    t.info["accept-error:" + std::string(ipc::ErrorCodeName(ch.status().code()))]++;
  } else {
    t.info["killed before connect"]++;
  }
  k.Join();
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "writer exited on its own with " + std::to_string(k.exit_code()));
  }
  const uint64_t acked = s->acked.load();
  t.torn += c.torn;
  t.misc += c.misc;
  t.lost += c.lost;
  if (c.received < acked) {
    t.lost += acked - c.received;
    t.Note(it, "writer had " + std::to_string(acked) + " sends acknowledged, reader got " +
                   std::to_string(c.received));
  }
  if (c.received > acked + 1) {
    t.misc++;
    t.Note(it, "reader got " + std::to_string(c.received) + " > acknowledged+1 " +
                   std::to_string(acked));
  }
  if (c.torn || c.misc || c.lost) t.Note(it, "torn/out-of-order/gap in the stream");
  t.info["messages"] += c.received;
  FreeShared(s);
}

// The victim reads; the parent writes until its Send says kClosed.
void ReaderKilled(const ChannelSpec& spec, uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-r" + spec.scheme + "-" + std::to_string(it);
  const std::string url = ChannelUrl(spec.scheme, name);
  Shared* s = NewShared();
  const bool victim_listens = spec.scheme == "mq";  // mq: the listener reads.
  std::optional<ipc::Listener> l;
  if (!victim_listens) {
    auto r = ipc::Listen(url);
    if (!r.ok()) {
      t.misc++;
      t.Note(it, "Listen: " + r.status().ToString());
      FreeShared(s);
      return;
    }
    l = std::move(r.value());
  }
  pid_t pid = Fork([&]() -> int {
    ipc::Channel ch;
    std::optional<ipc::Listener> vl;
    if (victim_listens) {
      auto r = ipc::Listen(url);
      if (!r.ok()) return 2;
      vl = std::move(r.value());
      s->holding = 1;  // Listening.
      auto a = vl->Accept(std::chrono::seconds(10));
      if (!a.ok()) return 2;
      ch = std::move(a.value());
    } else {
      auto c = ipc::Connect(url, std::chrono::seconds(5));
      if (!c.ok()) return 2;
      ch = std::move(c.value());
    }
    s->connected = 1;
    std::string m;
    for (;;) {
      ipc::Status st = ch.Receive(&m, std::chrono::seconds(10));
      if (!st.ok()) return 3;
      uint64_t seq = 0;
      if (!CheckMessage(m, &seq)) {
        s->torn++;
        continue;
      }
      const uint64_t expected = s->received.load();
      if (seq > expected) s->lost += seq - expected;
      if (seq < expected) s->misc++;
      s->received = seq + 1;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  ipc::Channel ch;
  bool have = false;
  if (victim_listens) {
    // Connect while the victim may still listen.
    for (bool last = false;;) {
      auto c = ipc::Connect(url, milliseconds(20));
      if (c.ok()) {
        ch = std::move(c.value());
        have = true;
        break;
      }
      if (last) break;
      if (k.reaped()) last = true;
    }
    if (!have) t.info[s->holding.load() ? "listener died before connect" : "killed before listen"]++;
  } else {
    bool hang = false;
    auto a = AcceptWhileAlive(*l, k, s, &hang);
    if (hang) {
      t.hangs++;
      t.Note(it, "Accept: no channel 5 s after the reader connected");
    } else if (a.ok()) {
      ch = std::move(a.value());
      have = true;
    } else if (s->connected.load()) {
      t.info["accept-error:" + std::string(ipc::ErrorCodeName(a.status().code()))]++;
    } else {
      t.info["killed before connect"]++;
    }
  }
  if (have) {
    const auto end = Clock::now() + std::chrono::seconds(15);
    int64_t reaped_at = 0;
    for (uint64_t seq = 0;; ++seq) {
      ipc::Status st = ch.Send(MakeMessage(seq, spec.max_payload), milliseconds(200));
      if (st.ok()) {
        if (Clock::now() > end) {
          t.hangs++;
          t.Note(it, "Send: still accepted messages 15 s after the reader died");
          break;
        }
        continue;
      }
      if (st.code() == ipc::ErrorCode::kClosed) break;
      if (st.code() == ipc::ErrorCode::kDeadlineExceeded) {
        if (k.reaped()) {
          if (!reaped_at) reaped_at = NowMs();
          if (NowMs() - reaped_at > 3000) {
            t.hangs++;
            t.Note(it, "Send: no kClosed 3 s after the reader died (" + st.ToString() + ")");
            break;
          }
        }
        --seq;  // Nothing was sent; send the same message again.
        continue;
      }
      t.misc++;
      t.Note(it, "Send: unexpected " + st.ToString());
      break;
    }
  }
  k.Join();
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "reader exited on its own with " + std::to_string(k.exit_code()));
  }
  t.torn += s->torn.load();
  t.lost += s->lost.load();
  t.misc += s->misc.load();
  if (s->torn || s->lost || s->misc) t.Note(it, "reader saw torn/gap/out-of-order messages");
  t.info["messages"] += s->received.load();
  if (victim_listens) {
    // A listener killed with SIGKILL cannot remove its POSIX queue; the next
    // listener of the name replaces it (documented). Do that, then check
    // that closing leaves nothing.
    {
      auto again = ipc::Listen(url);
      if (!again.ok()) {
        t.misc++;
        t.Note(it, "re-Listen after the listener's death: " + again.status().ToString());
      }
    }
    mqd_t q = mq_open(("/" + name).c_str(), O_RDONLY);
    if (q != (mqd_t)-1) {
      mq_close(q);
      mq_unlink(("/" + name).c_str());
      t.left++;
      t.Note(it, "POSIX queue /" + name + " left after the next listener closed");
    }
  }
  FreeShared(s);
}

// Deterministic: an mq:// sender that dies after reaching the rendezvous
// socket but before its hello (its 8-byte id) — the window the random kills
// of mq-writer hit about once in 1,000. The receiver Accept returned must
// then say kClosed (its only sender has gone), not wait for ever.
void MqSenderDiesBeforeHello(uint64_t it, std::mt19937_64&, Tally& t) {
  const std::string name = g_prefix + "-hello-" + std::to_string(it);
  const std::string url = "mq:///" + name;
  auto l = ipc::Listen(url);
  if (!l.ok()) {
    t.misc++;
    t.Note(it, "Listen: " + l.status().ToString());
    return;
  }
  pid_t pid = Fork([&]() -> int {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string abstract = "libipc.mq/" + name;
    memcpy(addr.sun_path + 1, abstract.data(), abstract.size());
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) return 2;
    kill(getpid(), SIGKILL);  // Dies here, as a sender killed before its hello.
    return 0;
  });
  Reap(pid, std::chrono::seconds(5));
  auto ch = l->Accept(std::chrono::seconds(2));
  if (!ch.ok()) {
    t.info["accept: " + std::string(ipc::ErrorCodeName(ch.status().code()))]++;
    return;
  }
  std::string m;
  ipc::Status st = ch->Receive(&m, milliseconds(500));
  if (st.code() == ipc::ErrorCode::kDeadlineExceeded) {
    t.hangs++;
    t.Note(it, "Accept returned a receiver whose only sender died before its hello; Receive "
               "waits (here 500 ms, for ever without a deadline) instead of giving kClosed");
  } else if (st.code() != ipc::ErrorCode::kClosed) {
    t.misc++;
    t.Note(it, "Receive: " + st.ToString());
  }
}

// ----------------------------------------------------------- sync cases

void MutexHolder(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-mutex-" + std::to_string(it);
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto m = ipc::Mutex::OpenOrCreate(name);
    if (!m.ok()) return 2;
    s->connected = 1;
    for (uint64_t x = 1;; ++x) {
      auto a = m->Acquire(std::chrono::seconds(10));
      if (!a.ok()) return 3;
      if (a->previous_owner_died) {
        s->value_b = s->value_a.load();
        if (!m->MarkConsistent().ok()) return 4;
      }
      s->holding = 1;
      s->value_a = x;
      for (int i = 0; i < 50; ++i) asm volatile("" ::: "memory");
      s->value_b = x;
      s->holding = 0;
      if (!m->Release().ok()) return 5;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  // The survivor contends while the victim runs, then locks once more.
  std::optional<ipc::Mutex> m;
  for (bool last = false;;) {
    auto r = ipc::Mutex::OpenOrCreate(name);
    if (!r.ok()) {
      t.misc++;
      t.Note(it, "OpenOrCreate: " + r.status().ToString());
      break;
    }
    if (!m) m = std::move(r.value());
    auto a = m->Acquire(std::chrono::seconds(3));
    if (!a.ok()) {
      if (a.status().code() == ipc::ErrorCode::kDeadlineExceeded) {
        t.hangs++;
        t.Note(it, "Acquire: not acquired in 3 s");
      } else {
        t.misc++;
        t.Note(it, "Acquire: " + a.status().ToString());
      }
      break;
    }
    if (a->previous_owner_died) {
      t.info["owner died holding"]++;
      s->value_b = s->value_a.load();
      if (!m->MarkConsistent().ok()) t.misc++;
    } else if (s->value_a.load() != s->value_b.load()) {
      t.torn++;
      t.Note(it, "state half-written, but the lock did not say its owner died");
      s->value_b = s->value_a.load();
    }
    if (!m->Release().ok()) {
      t.misc++;
      break;
    }
    if (last) break;
    if (k.reaped()) last = true;
  }
  k.Join();
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "victim exited on its own with " + std::to_string(k.exit_code()));
  }
  m.reset();
  (void)ipc::Mutex::Unlink(name);
  FreeShared(s);
}

void SemaphoreHolder(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-sem-" + std::to_string(it);
  auto sem = ipc::Semaphore::Create(name, 1);
  if (!sem.ok()) {
    t.misc++;
    t.Note(it, "Create: " + sem.status().ToString());
    return;
  }
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto v = ipc::Semaphore::Open(name);
    if (!v.ok()) return 2;
    s->connected = 1;
    for (;;) {
      ipc::Status st = v->Acquire(std::chrono::seconds(10));
      if (!st.ok()) return 3;
      for (int i = 0; i < 200; ++i) asm volatile("" ::: "memory");
      if (!v->Release().ok()) return 4;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  for (bool last = false;;) {
    const bool dead_before = k.reaped();  // Alive, it may win every race.
    ipc::Status st = sem->Acquire(milliseconds(300));
    if (st.ok()) {
      if (!sem->Release().ok()) t.misc++;
    } else if (st.code() == ipc::ErrorCode::kDeadlineExceeded) {
      // Either the victim died holding the unit (a count has no owner:
      // documented), or a unit was there and we slept through it.
      if (dead_before && sem->Value() > 0) {
        t.hangs++;
        t.Note(it, "Acquire slept 300 ms while a unit was free");
      }
      if (!k.reaped()) continue;
    } else {
      t.misc++;
      t.Note(it, "Acquire: " + st.ToString());
      break;
    }
    if (last) break;
    if (k.reaped()) last = true;
  }
  k.Join();
  const uint32_t v = sem->Value();
  if (v == 0) {
    t.info["died holding the unit (documented: no owner)"]++;
    (void)sem->Release();
  } else if (v != 1) {
    t.misc++;
    t.Note(it, "count " + std::to_string(v) + " after the holder's death, expected 0 or 1");
  }
  ipc::Status st = sem->Acquire(std::chrono::seconds(2));
  if (!st.ok()) {
    t.hangs++;
    t.Note(it, "survivor could not acquire: " + st.ToString());
  } else {
    (void)sem->Release();
  }
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "victim exited on its own with " + std::to_string(k.exit_code()));
  }
  (void)ipc::Semaphore::Unlink(name);
  FreeShared(s);
}

void BarrierParty(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-barrier-" + std::to_string(it);
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto b = ipc::Barrier::OpenOrCreate(name, 2);
    if (!b.ok()) return 2;
    s->connected = 1;
    for (;;) {
      // A round the parent broke (its short deadline) is reset by it; retry.
      auto r = b->Wait(std::chrono::seconds(5));
      if (r.ok()) {
        s->ops++;
      } else if (r.status().code() == ipc::ErrorCode::kClosed) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      } else {
        return 3;
      }
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  std::optional<ipc::Barrier> b;
  for (;;) {
    auto r = ipc::Barrier::OpenOrCreate(name, 2);
    if (r.ok()) {
      b = std::move(r.value());
      break;
    }
    if (k.reaped() || r.status().code() != ipc::ErrorCode::kInvalidArgument) {
      t.misc++;
      t.Note(it, "OpenOrCreate: " + r.status().ToString());
      break;
    }
  }
  if (b) {
    for (;;) {
      const auto t0 = Clock::now();
      auto r = b->Wait(milliseconds(200));
      const auto took = Clock::now() - t0;
      if (took > milliseconds(1200)) {
        t.hangs++;
        t.Note(it, "Wait returned " + std::to_string(std::chrono::duration_cast<milliseconds>(took).count()) +
                       " ms after it was called with a 200 ms deadline");
      }
      if (r.ok()) {
        if (*r > 1) t.misc++;
        continue;
      }
      if (r.status().code() == ipc::ErrorCode::kClosed ||
          r.status().code() == ipc::ErrorCode::kDeadlineExceeded) {
        if (!k.reaped()) {
          // The victim is still alive: a broken round; repair and go on.
          (void)b->Reset();
          continue;
        }
        break;
      }
      t.misc++;
      t.Note(it, "Wait: " + r.status().ToString());
      break;
    }
    k.Join();
    // The survivor proceeds: reset, and two fresh parties get indices 0 and 1.
    if (!b->Reset().ok()) t.misc++;
    s->aux[0] = -1;
    pid_t helper = Fork([&]() -> int {
      auto hb = ipc::Barrier::Open(name);
      if (!hb.ok()) return 2;
      auto r = hb->Wait(std::chrono::seconds(5));
      if (!r.ok()) return 3;
      s->aux[0] = *r;
      return 0;
    });
    auto r = b->Wait(std::chrono::seconds(5));
    int status = 0;
    const bool exited = Reap(helper, std::chrono::seconds(10), &status);
    if (!r.ok() || !exited || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      t.hangs++;
      t.Note(it, "after Reset two live parties did not pass: " + r.status().ToString());
    } else if (*r + s->aux[0].load() != 1) {
      t.misc++;
      t.Note(it, "arrival indices " + std::to_string(*r) + " and " + std::to_string(s->aux[0].load()));
    }
  }
  k.Join();
  if (k.exited_early()) {
    // A victim whose own deadline passed because we were slow: not ours to count.
    t.info["victim's Wait failed first"]++;
  }
  b.reset();
  (void)ipc::Barrier::Unlink(name);
  FreeShared(s);
}

// -------------------------------------------------------------- queue

ipc::QueueOptions SmallQueue() {
  ipc::QueueOptions o;
  o.maxsize = 8;
  o.max_item = 512;
  return o;
}

void QueueProducerKilled(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-qp-" + std::to_string(it);
  auto q = ipc::Queue::Create(name, SmallQueue());
  if (!q.ok()) {
    t.misc++;
    t.Note(it, "Create: " + q.status().ToString());
    return;
  }
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto v = ipc::Queue::Open(name);
    if (!v.ok()) return 2;
    s->connected = 1;
    for (uint64_t seq = 0;; ++seq) {
      if (!v->Put(MakeMessage(seq, 400), std::chrono::seconds(10)).ok()) return 3;
      s->acked = seq + 1;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  SeqChecker c;
  for (;;) {
    auto item = q->Get(milliseconds(50));
    if (item.ok()) {
      c.See(*item);
      continue;
    }
    if (item.status().code() == ipc::ErrorCode::kEmpty) {
      if (k.reaped()) break;
      continue;
    }
    t.misc++;
    t.Note(it, "Get: " + item.status().ToString());
    break;
  }
  k.Join();
  // Drain whatever is left.
  for (;;) {
    auto item = q->TryGet();
    if (!item.ok()) break;
    c.See(*item);
  }
  const uint64_t acked = s->acked.load();
  t.torn += c.torn;
  t.lost += c.lost;
  t.misc += c.misc;
  if (c.received < acked) {
    t.lost += acked - c.received;
    t.Note(it, std::to_string(acked) + " Puts acknowledged, " + std::to_string(c.received) + " got");
  }
  if (c.received > acked + 1) {
    t.misc++;
    t.Note(it, std::to_string(c.received) + " got > acknowledged+1 " + std::to_string(acked));
  }
  if (q->Size() != 0) {
    t.misc++;
    t.Note(it, "Size() " + std::to_string(q->Size()) + " after draining");
  }
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "producer exited on its own with " + std::to_string(k.exit_code()));
  }
  t.info["items"] += c.received;
  (void)ipc::Queue::Unlink(name);
  FreeShared(s);
}

void QueueConsumerKilled(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-qc-" + std::to_string(it);
  auto q = ipc::Queue::Create(name, SmallQueue());
  if (!q.ok()) {
    t.misc++;
    t.Note(it, "Create: " + q.status().ToString());
    return;
  }
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto v = ipc::Queue::Open(name);
    if (!v.ok()) return 2;
    s->connected = 1;
    for (;;) {
      auto item = v->Get(std::chrono::seconds(10));
      if (!item.ok()) return 3;
      uint64_t seq = 0;
      if (!CheckMessage(*item, &seq)) {
        s->torn++;
        continue;
      }
      if (seq < s->last_seq.load() + (s->received.load() ? 1 : 0)) s->misc++;
      s->last_seq = seq;
      s->received++;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  uint64_t put = 0;
  for (;;) {
    ipc::Status st = q->Put(MakeMessage(put, 400), milliseconds(100));
    if (st.ok()) {
      ++put;
      continue;
    }
    if (st.code() == ipc::ErrorCode::kFull) {
      if (k.reaped()) break;
      continue;
    }
    t.misc++;
    t.Note(it, "Put: " + st.ToString());
    break;
  }
  k.Join();
  SeqChecker c;
  const uint64_t child_got = s->received.load();
  uint64_t first = UINT64_MAX;
  for (;;) {
    auto item = q->TryGet();
    if (!item.ok()) break;
    uint64_t seq = 0;
    if (CheckMessage(*item, &seq) && first == UINT64_MAX) {
      first = seq;
      c.expected = seq;
    }
    c.See(*item);
  }
  t.torn += c.torn + s->torn.load();
  t.misc += c.misc + s->misc.load();
  t.lost += c.lost;
  // Every acknowledged Put was got by the victim, is still in the queue, or
  // (at most one) was taken by the victim just before it died.
  const uint64_t accounted = child_got + c.received;
  if (accounted + 1 < put) {
    t.lost += put - accounted - 1;
    t.Note(it, std::to_string(put) + " put, victim got " + std::to_string(child_got) + ", left " +
                   std::to_string(c.received));
  }
  if (accounted > put) {
    t.misc++;
    t.Note(it, "more items got than put");
  }
  if (accounted + 1 == put) t.info["item taken by the dying consumer"]++;
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "consumer exited on its own with " + std::to_string(k.exit_code()));
  }
  t.info["items"] += put;
  (void)ipc::Queue::Unlink(name);
  FreeShared(s);
}

// --------------------------------------------------------------- ipcd

class Daemon {
 public:
  explicit Daemon(const std::string& dir) : dir_(dir) {}
  ~Daemon() { Kill(); }
  std::string socket() const { return dir_ + "/ipcd.sock"; }
  std::string url() const { return "unix://" + socket(); }
  pid_t pid() const { return pid_; }
  bool Start() {
    const std::string log = dir_ + "/ipcd.log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 2);
        dup2(fd, 1);
      }
      execl(g_ipcd.c_str(), g_ipcd.c_str(), "--socket", socket().c_str(), "--spin-us", "0",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    ipc::ManagerOptions o;
    o.wait_for_daemon = std::chrono::seconds(10);
    auto m = ipc::Manager::Connect(url(), o);
    return m.ok();
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

std::string MakeTempDir() {
  char tmpl[] = "/tmp/kill_run.XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (!d) {
    perror("mkdtemp");
    exit(2);
  }
  return d;
}

void RemoveDir(const std::string& dir) {
  std::string cmd = "rm -rf '" + dir + "'";
  if (system(cmd.c_str()) != 0) fprintf(stderr, "kill_run: could not remove %s\n", dir.c_str());
}

struct IpcdEnv {
  std::string dir;
  std::unique_ptr<Daemon> daemon;
};
IpcdEnv* g_ipcd_env = nullptr;

bool EnsureDaemon(Tally& t) {
  if (g_ipcd.empty()) {  // Built without ipcd: nothing to kill.
    t.info["skipped: built without ipcd (pass --ipcd PATH)"]++;
    return false;
  }
  if (access(g_ipcd.c_str(), X_OK) != 0) {
    t.Note(0, "no ipcd binary (" + g_ipcd + "); pass --ipcd PATH");
    t.misc++;
    return false;
  }
  if (!g_ipcd_env) {
    g_ipcd_env = new IpcdEnv;
    g_ipcd_env->dir = MakeTempDir();
    g_ipcd_env->daemon = std::make_unique<Daemon>(g_ipcd_env->dir);
    if (!g_ipcd_env->daemon->Start()) {
      t.misc++;
      t.Note(0, "ipcd did not start");
      return false;
    }
  }
  return true;
}

void IpcdLockHolder(uint64_t it, std::mt19937_64& rng, Tally& t) {
  if (!EnsureDaemon(t)) return;
  const std::string url = g_ipcd_env->daemon->url();
  const std::string lock = g_prefix + "-lock";
  const std::string counter = g_prefix + "-count-" + std::to_string(it);
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto m = ipc::Manager::Connect(url);
    if (!m.ok()) return 2;
    auto l = m->Lock(lock);
    auto c = m->Counter(counter);
    s->connected = 1;
    for (;;) {
      ipc::Status st = l.AcquireRaw(std::chrono::seconds(10));
      if (!st.ok()) return 3;
      s->holding = 1;
      auto n = c.Add(1);
      if (!n.ok()) return 4;
      s->acked = static_cast<uint64_t>(*n);
      s->holding = 0;
      if (!l.Release().ok()) return 5;
    }
  });
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  k.Join();
  auto m = ipc::Manager::Connect(url);
  if (!m.ok()) {
    t.misc++;
    t.Note(it, "Connect: " + m.status().ToString());
    FreeShared(s);
    return;
  }
  auto l = m->Lock(lock);
  auto g = l.Acquire(std::chrono::seconds(3));
  if (!g.ok()) {
    if (g.status().code() == ipc::ErrorCode::kDeadlineExceeded) {
      t.hangs++;
      t.Note(it, "the next client did not get the lock within 3 s of the holder's death");
    } else {
      t.misc++;
      t.Note(it, "Acquire: " + g.status().ToString());
    }
  } else {
    if (s->holding.load()) t.info["died holding the lock"]++;
    auto n = m->Counter(counter).Get();
    const uint64_t acked = s->acked.load();
    if (!n.ok()) {
      t.misc++;
    } else if (static_cast<uint64_t>(*n) < acked) {
      t.lost += acked - *n;
      t.Note(it, "counter " + std::to_string(*n) + " < acknowledged " + std::to_string(acked));
    } else if (static_cast<uint64_t>(*n) > acked + 1) {
      t.misc++;
      t.Note(it, "counter " + std::to_string(*n) + " > acknowledged+1 " + std::to_string(acked));
    }
    (void)g->Release();
  }
  (void)m->Destroy(counter);
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "client exited on its own with " + std::to_string(k.exit_code()));
  }
  FreeShared(s);
}

// ipcd itself is killed under load from 3 clients and restarted. Clients
// must see clear errors (kClosed, kNotFound, kDeadlineExceeded while it is
// down), reconnect by themselves, and never hang; state is in memory, so
// counts are not compared across the restart (docs/ipcd.md).
void IpcdKilled(uint64_t it, std::mt19937_64& rng, Tally& t) {
  if (!EnsureDaemon(t)) return;
  const std::string url = g_ipcd_env->daemon->url();
  constexpr int kClients = 3;
  Shared* s = NewShared();
  std::vector<pid_t> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(Fork([&, c]() -> int {
      ipc::ManagerOptions o;
      o.reply_timeout = std::chrono::seconds(5);
      auto m = ipc::Manager::Connect(url, o);
      if (!m.ok()) return 2;
      auto counter = m->Counter(g_prefix + "-load");
      auto dict = m->Dict(g_prefix + "-dict");
      auto lock = m->Lock(g_prefix + "-loadlock");
      auto queue = m->Queue(g_prefix + "-loadq");
      std::mt19937_64 r(c * 7919 + it);
      s->connected++;
      while (!s->stop.load()) {
        ipc::Status st;
        switch (r() % 4) {
          case 0: st = counter.Add(1).status(); break;
          case 1: st = dict.Set("k" + std::to_string(r() % 16), static_cast<int64_t>(r() % 1000)); break;
          case 2: {
            auto g = lock.Acquire(std::chrono::seconds(2));
            st = g.status();
            if (g.ok()) st = g->Release();
            break;
          }
          default: {
            st = queue.Put(static_cast<int64_t>(1), std::chrono::seconds(1));
            if (st.ok()) st = queue.Get(std::chrono::seconds(1)).status();
            if (st.code() == ipc::ErrorCode::kEmpty) st = ipc::Status();  // Another took it.
            break;
          }
        }
        if (st.ok()) {
          s->aux[c]++;
          continue;
        }
        switch (st.code()) {
          case ipc::ErrorCode::kClosed:
          case ipc::ErrorCode::kNotFound:
          case ipc::ErrorCode::kDeadlineExceeded:
            s->aux[8 + c]++;
            std::this_thread::sleep_for(milliseconds(1));
            break;
          default:
            s->misc++;
            snprintf(s->text, sizeof s->text, "%s", st.ToString().c_str());
            std::this_thread::sleep_for(milliseconds(1));
        }
      }
      return 0;
    }));
  }
  // Load runs, then the daemon dies at a random moment.
  const auto load_start = Clock::now();
  while (s->connected.load() < kClients && Clock::now() - load_start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % (g_window_ms * 2000)));
  g_ipcd_env->daemon->Kill();
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
  int64_t before[kClients];
  if (!g_ipcd_env->daemon->Start()) {
    t.misc++;
    t.Note(it, "ipcd did not restart");
  }
  for (int c = 0; c < kClients; ++c) before[c] = s->aux[c].load();
  // Every client must complete operations on the new daemon within 5 s.
  const auto end = Clock::now() + std::chrono::seconds(5);
  for (int c = 0; c < kClients; ++c) {
    while (s->aux[c].load() < before[c] + 20 && Clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    if (s->aux[c].load() < before[c] + 20) {
      t.hangs++;
      t.Note(it, "client " + std::to_string(c) + " made no progress 5 s after the restart");
    }
  }
  s->stop = 1;
  for (pid_t p : clients) {
    int status = 0;
    if (!Reap(p, std::chrono::seconds(10), &status)) {
      t.hangs++;
      t.Note(it, "a client did not stop within 10 s");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      t.misc++;
      t.Note(it, "a client failed, status " + std::to_string(status));
    }
  }
  if (s->misc.load()) {
    t.misc += s->misc.load();
    t.Note(it, std::string("unclear error: ") + s->text);
  }
  for (int c = 0; c < kClients; ++c) t.info["clear errors seen"] += s->aux[8 + c].load();
  FreeShared(s);
}

// ------------------------------------------------------------ shared dict

// The victim's i-th change to the dict, the same in the victim and in the
// parent's model: sets of 50 keys with values of varying length (so values
// are replaced in place and reallocated), every third one through Update
// with a second key, every seventh a Pop.
struct DictOp {
  enum { kSet, kUpdate, kPop } kind;
  std::string key, value;
};
DictOp DictOpAt(uint64_t i) {
  const std::string key = "k" + std::to_string(i % 50);
  if (i % 7 == 6) return {DictOp::kPop, key, ""};
  std::string value = std::to_string(i) + std::string(20 + i % 37, 'v');
  return {i % 3 == 2 ? DictOp::kUpdate : DictOp::kSet, key, value};
}
void ApplyDictOp(const DictOp& op, uint64_t i, std::map<std::string, std::string>* m) {
  if (op.kind == DictOp::kPop) {
    m->erase(op.key);
    return;
  }
  (*m)[op.key] = op.value;
  if (op.kind == DictOp::kUpdate) (*m)["last"] = std::to_string(i);
}

// A writer SIGKILLed at a random moment while it changes a SharedDict. The
// dict must then hold exactly the changes the writer saw succeed (plus,
// perhaps, the one in flight), or, if the kill fell inside a change, refuse
// use with kNotRecoverable until Reset, after which it works.
void DictWriterKilled(uint64_t it, std::mt19937_64& rng, Tally& t) {
  const std::string name = g_prefix + "-dict-" + std::to_string(it);
  auto dict = ipc::SharedDict::Create(name, {.capacity = 1 << 20});
  if (!dict.ok()) {
    t.misc++;
    t.Note(it, "Create: " + dict.status().ToString());
    return;
  }
  Shared* s = NewShared();
  pid_t pid = Fork([&]() -> int {
    auto d = ipc::SharedDict::Open(name);
    if (!d.ok()) return 2;
    s->connected = 1;
    for (uint64_t i = 0;; ++i) {
      const DictOp op = DictOpAt(i);
      ipc::Status st;
      if (op.kind == DictOp::kPop) {
        st = d->Pop(op.key, std::chrono::seconds(10)).status();
        if (st.code() == ipc::ErrorCode::kNotFound) st = ipc::Status::Ok();
      } else if (op.kind == DictOp::kUpdate) {
        st = d->Update({{op.key, op.value}, {"last", std::to_string(i)}},
                       std::chrono::seconds(10));
      } else {
        st = d->Set(op.key, op.value, std::chrono::seconds(10));
      }
      if (!st.ok()) return 3;
      s->acked = i + 1;
    }
  });
  // The kill lands while the writer writes: after it has opened the dict.
  const auto opened_by = Clock::now() + std::chrono::seconds(10);
  while (!s->connected.load() && Clock::now() < opened_by) std::this_thread::yield();
  Killer k(pid, static_cast<int>(rng() % (g_window_ms * 1000)));
  k.Join();
  if (k.exited_early()) {
    t.misc++;
    t.Note(it, "victim exited on its own with " + std::to_string(k.exit_code()));
  }
  if (s->acked.load() == 0) t.info["killed before its first change returned"]++;
  auto items = dict->GetItems(std::chrono::seconds(3));
  if (items.ok()) {
    std::map<std::string, std::string> model;
    const uint64_t acked = s->acked.load();
    for (uint64_t i = 0; i < acked; ++i) ApplyDictOp(DictOpAt(i), i, &model);
    std::map<std::string, std::string> with_next = model;
    ApplyDictOp(DictOpAt(acked), acked, &with_next);
    const std::map<std::string, std::string> got(items->begin(), items->end());
    if (dict->Stats(std::chrono::seconds(3)).value_or(ipc::SharedDictStats{}).owner_deaths) {
      t.info["killed holding the lock outside a change: carried on"]++;
    }
    if (got == model) {
      t.info["consistent, in-flight change absent"]++;
    } else if (got == with_next) {
      t.info["consistent, in-flight change present"]++;
    } else {
      t.lost++;
      t.Note(it, "the dict holds neither the acknowledged changes (" + std::to_string(acked) +
                     ") nor those plus the one in flight");
    }
  } else if (items.status().code() == ipc::ErrorCode::kNotRecoverable) {
    t.info["killed inside a change: reported not recoverable, then Reset"]++;
    ipc::Status reset = dict->Reset(std::chrono::seconds(3));
    if (!reset.ok() || dict->Size(std::chrono::seconds(3)).value_or(1) != 0) {
      t.misc++;
      t.Note(it, "Reset after the kill: " + reset.ToString());
    }
  } else if (items.status().code() == ipc::ErrorCode::kDeadlineExceeded) {
    t.hangs++;
    t.Note(it, "GetItems: the lock was not had in 3 s");
  } else {
    t.misc++;
    t.Note(it, "GetItems: " + items.status().ToString());
  }
  ipc::Status again = dict->Set("after", "kill", std::chrono::seconds(3));
  if (!again.ok() || dict->Get("after", std::chrono::seconds(3)).value_or("") != "kill") {
    t.misc++;
    t.Note(it, "the dict is not usable after the kill: " + again.ToString());
  }
  (void)ipc::SharedDict::Unlink(name);
  FreeShared(s);
}

// ---------------------------------------------------------------- driver

struct Case {
  const char* name;
  std::function<void(uint64_t, std::mt19937_64&, Tally&)> run;
  uint64_t cap = 0;  // At most this many iterations (deterministic cases).
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const ChannelSpec specs[] = {{"shm", 100000}, {"mq", 20000}, {"unix", 40000}};
  for (const auto& spec : specs) {
    cases.push_back({strdup((spec.scheme + "-writer").c_str()),
                     [spec](uint64_t i, std::mt19937_64& r, Tally& t) { WriterKilled(spec, i, r, t); }});
    cases.push_back({strdup((spec.scheme + "-reader").c_str()),
                     [spec](uint64_t i, std::mt19937_64& r, Tally& t) { ReaderKilled(spec, i, r, t); }});
  }
  cases.push_back({"mq-sender-before-hello", MqSenderDiesBeforeHello, 20});
  cases.push_back({"mutex-holder", MutexHolder});
  cases.push_back({"queue-producer", QueueProducerKilled});
  cases.push_back({"queue-consumer", QueueConsumerKilled});
  cases.push_back({"semaphore-holder", SemaphoreHolder});
  cases.push_back({"barrier-party", BarrierParty});
  cases.push_back({"dict-writer", DictWriterKilled});
  cases.push_back({"ipcd-lock-holder", IpcdLockHolder});
  cases.push_back({"ipcd-restart", IpcdKilled});
  return cases;
}

bool RunCase(const Case& c, uint64_t iterations, uint64_t seed) {
  Tally t;
  std::mt19937_64 rng(seed ^ Mix(std::hash<std::string>()(c.name)));
  g_current = c.name;
  const auto shm_before = ShmEntries();
  const auto t0 = Clock::now();
  if (c.cap && iterations > c.cap) iterations = c.cap;
  for (uint64_t i = 0; i < iterations; ++i) {
    g_current_iteration = i;
    g_iteration_started_ms = NowMs();
    c.run(i, rng, t);
    t.iterations++;
  }
  g_iteration_started_ms = 0;
  const auto shm_after = ShmEntries();
  std::vector<std::string> left;
  for (const auto& n : shm_after) {
    if (!shm_before.count(n)) left.push_back(n);
  }
  t.left += left.size();
  for (size_t i = 0; i < left.size() && i < 5; ++i) t.notes.push_back("left in /dev/shm: " + left[i]);
  for (const auto& n : left) unlink(("/dev/shm/" + n).c_str());
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  printf("%-22s %10" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %10" PRIu64 " %6" PRIu64 " %7.1fs\n",
         c.name, t.iterations, t.hangs, t.torn, t.lost, t.misc, t.left, secs);
  for (const auto& [k, v] : t.info) printf("    %s: %" PRIu64 "\n", k.c_str(), v);
  for (const auto& n : t.notes) printf("    FAIL %s\n", n.c_str());
  fflush(stdout);
  return t.hangs == 0 && t.torn == 0 && t.lost == 0 && t.misc == 0 && t.left == 0;
}

// ---------------------------------------------------------------- soak

int Soak(double minutes, int clients, uint64_t seed) {
  Tally dummy;
  if (!EnsureDaemon(dummy)) {
    fprintf(stderr, "kill_run: soak needs ipcd\n");
    return 2;
  }
  const std::string url = g_ipcd_env->daemon->url();
  const pid_t daemon_pid = g_ipcd_env->daemon->pid();
  const auto shm_before = ShmEntries();
  // Start() checked the daemon with a connection of its own: let ipcd see
  // it close before counting.
  std::this_thread::sleep_for(milliseconds(300));
  const int ipcd_fds_before = CountFdsOf(daemon_pid);
  const long ipcd_rss_before = RssKb(daemon_pid);
  const std::string sem_name = g_prefix + "-soak-sem";
  const std::string q_name = g_prefix + "-soak-q";
  const std::string mutex_name = g_prefix + "-soak-mutex";
  auto sem = ipc::Semaphore::Create(sem_name, 2);
  auto queue = ipc::Queue::Create(q_name, SmallQueue());
  if (!sem.ok() || !queue.ok()) {
    fprintf(stderr, "kill_run: soak setup failed\n");
    return 2;
  }
  struct ClientReport {
    std::atomic<int64_t> ops, errors, fd_base, fd_end, rss_base, rss_end, puts, gets, adds;
    char error[200];
  };
  auto* reports = static_cast<ClientReport*>(mmap(nullptr, sizeof(ClientReport) * clients,
                                                  PROT_READ | PROT_WRITE,
                                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (reports) ClientReport[clients]();
  const auto duration = std::chrono::duration_cast<milliseconds>(
      std::chrono::duration<double, std::ratio<60>>(minutes));
  const auto warmup = duration / 10;
  std::vector<pid_t> pids;
  const std::string dir = g_ipcd_env->dir;
  for (int c = 0; c < clients; ++c) {
    pids.push_back(Fork([&, c]() -> int {
      ClientReport& rep = reports[c];
      std::mt19937_64 r(seed * 31 + c);
      auto m = ipc::Manager::Connect(url);
      auto s = ipc::Semaphore::Open(sem_name);
      auto q = ipc::Queue::Open(q_name);
      auto mu = ipc::Mutex::OpenOrCreate(mutex_name);
      if (!m.ok() || !s.ok() || !q.ok() || !mu.ok()) return 2;
      const auto start = Clock::now();
      bool based = false;
      auto fail = [&](const std::string& what, const ipc::Status& st) {
        rep.errors++;
        snprintf(rep.error, sizeof rep.error, "%s: %s", what.c_str(), st.ToString().c_str());
      };
      uint64_t n = 0;
      while (Clock::now() - start < duration) {
        if (!based && Clock::now() - start > warmup) {
          rep.fd_base = CountFds();
          rep.rss_base = RssKb();
          based = true;
        }
        ++n;
        switch (r() % 8) {
          case 0:
          case 1:
          case 2: {  // A channel: listen, connect, a few messages, close.
            const char* schemes[] = {"shm", "unix", "mq"};
            const std::string scheme = schemes[r() % 3];
            const std::string name = g_prefix + "-soak-" + scheme + "-" + std::to_string(c);
            const std::string u = scheme == "unix" ? "unix://" + dir + "/c" + std::to_string(c) + ".sock"
                                                   : ChannelUrl(scheme, name);
            auto l = ipc::Listen(u);
            if (!l.ok()) { fail("Listen " + u, l.status()); break; }
            auto a = ipc::Connect(u, std::chrono::seconds(5));
            if (!a.ok()) { fail("Connect " + u, a.status()); break; }
            auto b = l->Accept(std::chrono::seconds(5));
            if (!b.ok()) { fail("Accept " + u, b.status()); break; }
            for (uint64_t k = 0; k < 10; ++k) {
              ipc::Status st = a->Send(MakeMessage(k, 3000), std::chrono::seconds(5));
              if (!st.ok()) { fail("Send", st); break; }
              auto got = b->Receive(std::chrono::seconds(5));
              uint64_t seq;
              if (!got.ok() || !CheckMessage(*got, &seq) || seq != k) {
                fail("Receive", got.status());
                break;
              }
            }
            break;
          }
          case 3: {
            auto g = mu->Lock(std::chrono::seconds(5));
            if (!g.ok()) fail("Mutex", g.status());
            break;
          }
          case 4: {
            ipc::Status st = s->Acquire(std::chrono::seconds(5));
            if (!st.ok()) { fail("Semaphore", st); break; }
            (void)s->Release();
            break;
          }
          case 5: {
            ipc::Status st = q->Put(MakeMessage(n, 100), std::chrono::seconds(5));
            if (!st.ok()) { fail("Queue Put", st); break; }
            rep.puts++;
            auto g = q->Get(std::chrono::seconds(5));
            if (!g.ok()) { fail("Queue Get", g.status()); break; }
            rep.gets++;
            break;
          }
          case 6: {  // A named object made and removed.
            const std::string name = g_prefix + "-soak-tmp-" + std::to_string(c);
            auto t = ipc::Mutex::Create(name);
            if (!t.ok()) { fail("Mutex::Create", t.status()); break; }
            (void)ipc::Mutex::Unlink(name);
            break;
          }
          default: {
            auto counter = m->Counter(g_prefix + "-soak-count");
            auto added = counter.Add(1);
            if (!added.ok()) { fail("Counter", added.status()); break; }
            rep.adds++;
            auto lock = m->Lock(g_prefix + "-soak-lock");
            auto g = lock.Acquire(std::chrono::seconds(5));
            if (!g.ok()) { fail("Lock", g.status()); break; }
            ipc::Status st = m->Dict(g_prefix + "-soak-dict").Set("c" + std::to_string(c), static_cast<int64_t>(n));
            if (!st.ok()) fail("Dict", st);
            auto mq = m->Queue(g_prefix + "-soak-mq");
            if (!mq.Put(static_cast<int64_t>(n), std::chrono::seconds(5)).ok() ||
                !mq.Get(std::chrono::seconds(5)).ok()) {
              fail("ipcd queue", ipc::Status(ipc::ErrorCode::kInternal, "put/get"));
            }
            break;
          }
        }
        rep.ops++;
      }
      rep.fd_end = CountFds();
      rep.rss_end = RssKb();
      return 0;
    }));
  }
  bool ok = true;
  for (pid_t p : pids) {
    int status = 0;
    if (!Reap(p, duration + std::chrono::seconds(60), &status) || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      ok = false;
      printf("soak: client %d failed (status %d)\n", p, status);
    }
  }
  std::this_thread::sleep_for(milliseconds(200));  // Let ipcd see the hang-ups.
  auto m = ipc::Manager::Connect(url);
  int64_t count = -1;
  if (m.ok()) {
    auto v = m->Counter(g_prefix + "-soak-count").Get();
    if (v.ok()) count = *v;
  }
  m = ipc::Result<ipc::Manager>(ipc::Status(ipc::ErrorCode::kClosed, "done"));
  std::this_thread::sleep_for(milliseconds(200));
  const int ipcd_fds_after = CountFdsOf(daemon_pid);
  const long ipcd_rss_after = RssKb(daemon_pid);
  int64_t adds = 0, puts = 0, gets = 0, ops = 0;
  printf("soak: %.1f minutes, %d clients, seed %" PRIu64 "\n", minutes, clients, seed);
  printf("  client      ops  errors  fds(base->end)  RSS kB(base->end)\n");
  for (int c = 0; c < clients; ++c) {
    const ClientReport& r = reports[c];
    printf("  %6d %8" PRId64 " %7" PRId64 "  %5" PRId64 " -> %-5" PRId64 "  %7" PRId64 " -> %-7" PRId64 "%s%s\n", c,
           r.ops.load(), r.errors.load(), r.fd_base.load(), r.fd_end.load(), r.rss_base.load(),
           r.rss_end.load(), r.errors ? "  last error: " : "", r.errors ? r.error : "");
    if (r.errors || r.fd_base != r.fd_end || r.rss_end - r.rss_base > 4096) ok = false;
    adds += r.adds;
    puts += r.puts;
    gets += r.gets;
    ops += r.ops;
  }
  queue.value().Close().ok();
  const uint32_t left_in_queue = queue->Size();
  printf("  total ops %" PRId64 "; queue puts %" PRId64 ", gets %" PRId64 ", left %u; ipcd counter %" PRId64
         " for %" PRId64 " acknowledged adds\n",
         ops, puts, gets, left_in_queue, count, adds);
  if (puts != gets || left_in_queue != 0 || count != adds) ok = false;
  printf("  ipcd: fds %d -> %d, RSS %ld -> %ld kB\n", ipcd_fds_before, ipcd_fds_after,
         ipcd_rss_before, ipcd_rss_after);
  if (ipcd_fds_before != ipcd_fds_after) ok = false;
  sem = ipc::Result<ipc::Semaphore>(ipc::Status(ipc::ErrorCode::kClosed, "done"));
  queue = ipc::Result<ipc::Queue>(ipc::Status(ipc::ErrorCode::kClosed, "done"));
  (void)ipc::Semaphore::Unlink(sem_name);
  (void)ipc::Queue::Unlink(q_name);
  (void)ipc::Mutex::Unlink(mutex_name);
  const auto shm_after = ShmEntries();
  std::vector<std::string> left;
  for (const auto& n : shm_after) {
    if (!shm_before.count(n)) left.push_back(n);
  }
  printf("  /dev/shm: %zu entries with this run's prefix before, %zu after cleanup\n",
         shm_before.size(), left.size());
  for (const auto& n : left) printf("    left: %s\n", n.c_str());
  if (!left.empty()) ok = false;
  printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

void Usage() {
  fprintf(stderr,
          "usage: kill_run --case NAME|all [--iterations N] [--seed S] [--window-ms W] [--ipcd PATH]\n"
          "       kill_run --soak MINUTES [--clients K] [--seed S] [--ipcd PATH]\n"
          "       kill_run --list\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string which;
  uint64_t iterations = 1000, seed = 0;
  bool seeded = false;
  double soak = -1;
  int clients = 4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--case") which = next();
    else if (a == "--iterations") iterations = std::stoull(next());
    else if (a == "--seed") seed = std::stoull(next()), seeded = true;
    else if (a == "--window-ms") g_window_ms = std::max(1, std::stoi(next()));
    else if (a == "--soak") soak = std::stod(next());
    else if (a == "--clients") clients = std::max(1, std::stoi(next()));
    else if (a == "--ipcd") g_ipcd = next();
    else if (a == "--list") {
      for (const auto& c : Cases()) printf("%s\n", c.name);
      return 0;
    } else {
      Usage();
      return 2;
    }
  }
  if (!seeded) seed = static_cast<uint64_t>(NowMs()) ^ getpid();
  g_prefix = "kr" + std::to_string(getpid()) + "x" + std::to_string(seed % 100000);
  StartWatchdog();
  int rc = 0;
  if (soak >= 0) {
    rc = Soak(soak, clients, seed);
  } else {
    if (which.empty()) {
      Usage();
      return 2;
    }
    printf("kill_run: seed %" PRIu64 ", %" PRIu64 " iterations per case, kill window %d ms\n", seed,
           iterations, g_window_ms);
    printf("%-22s %10s %6s %6s %6s %10s %6s %8s\n", "case", "iterations", "hangs", "torn", "lost",
           "miscounted", "left", "time");
    bool found = false;
    for (const auto& c : Cases()) {
      if (which != "all" && which != c.name) continue;
      found = true;
      if (!RunCase(c, iterations, seed)) rc = 1;
    }
    if (!found) {
      fprintf(stderr, "kill_run: no case %s (see --list)\n", which.c_str());
      return 2;
    }
  }
  if (g_ipcd_env) {
    g_ipcd_env->daemon.reset();
    RemoveDir(g_ipcd_env->dir);
  }
  return rc;
}
