// A full disk under the state dir: a change whose record cannot be
// reserved is refused with RESOURCE_EXHAUSTED naming the state dir and "No
// space left", and is not applied; reads go on working; once space returns
// writes succeed again without a restart; after a restart every
// acknowledged change is there and no refused one is.
//
// The case runs in a child with its own mount namespace (unshare -m) and a
// 2 MiB tmpfs on a temp dir, so no real disk is filled (as
// tests/fault/shm_full_test.cc does for /dev/shm); it is skipped, saying
// why, where unshare or mount is not permitted. The child counts failed
// checks in its exit code and prints each on stderr.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <set>
#include <sstream>
#include <string>

#include "raw_client.h"
#include "state_support.h"
#include "support/daemon_process.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

constexpr int kNotPermitted = 77;

// In the child: a private 2 MiB tmpfs on dir. False if not permitted.
bool MountSmallTmpfs(const std::string& dir) {
  if (::unshare(CLONE_NEWNS) != 0) {
    std::fprintf(stderr, "unshare(CLONE_NEWNS): %s\n", std::strerror(errno));
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=2M,mode=0700") != 0) {
    std::fprintf(stderr, "mount: %s\n", std::strerror(errno));
    return false;
  }
  return true;
}

// Writes path until the file system is full; true when it ended in ENOSPC.
bool Fill(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  char page[4096];
  std::memset(page, 'f', sizeof page);
  while (::write(fd, page, sizeof page) > 0) {
  }
  const bool full = errno == ENOSPC;
  ::close(fd);
  return full;
}

class Checks {
 public:
  void operator()(bool ok, const std::string& what) {
    if (ok) return;
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failed_;
  }
  int failed() const { return failed_; }

 private:
  int failed_ = 0;
};

// What the clients were told.
struct Ledger {
  std::map<std::string, std::string> acked;  // dict key -> value
  std::set<std::string> refused;             // dict keys
  int64_t counter = 0;
  int puts = 0;
};

// The whole scenario, in the child; returns the number of failed checks.
int FullDisk(const std::string& mnt, bool snapshots, const std::string& fsync) {
  Checks check;
  const std::string state = mnt + "/state";
  if (!MakeDir(state)) {
    std::perror("mkdir state");
    return 100;
  }
  std::vector<std::string> flags = {"--state-dir", state, "--fsync", fsync};
  // Small snapshots: they (and the new logs they start) meet the full disk.
  if (snapshots) flags.insert(flags.end(), {"--snapshot-after-bytes", "4096"});
  Ledger ledger;
  // A response to a change: OK (acknowledged) or RESOURCE_EXHAUSTED naming
  // the dir and the cause. True when acknowledged.
  const auto outcome = [&](const v1::Response& r, const std::string& what) {
    if (CodeOf(r) == v1::OK) return true;
    check(CodeOf(r) == v1::RESOURCE_EXHAUSTED &&
              r.status().message().find(state) != std::string::npos &&
              r.status().message().find("No space left") != std::string::npos,
          what + ": want OK or RESOURCE_EXHAUSTED naming " + state +
              " and 'No space left', got " + v1::Code_Name(CodeOf(r)) + ": " +
              r.status().message());
    return false;
  };
  {
    DaemonProcess daemon = DaemonProcess::Start(flags);
    if (daemon.pid() <= 0) {
      std::fprintf(stderr, "FAILED: ipcd did not start on a 2 MiB tmpfs\n");
      return 1;
    }
    RawClient c = RawClient::Open(daemon.url());
    for (int i = 0; i < 5; ++i) {
      const std::string key = "pre-" + std::to_string(i);
      check(CodeOf(c.Call(DictSet("d", key, StringValue(key)))) == v1::OK, "SET " + key);
      ledger.acked[key] = key;
    }
    check(CodeOf(c.Call(CounterAdd("n", 1))) == v1::OK, "ADD before the disk is full");
    ledger.counter += 1;
    check(CodeOf(c.Call(QueuePut("q", IntValue(0)))) == v1::OK, "PUT before the disk is full");
    ledger.puts += 1;

    if (snapshots) {
      // Close to the 4 KiB snapshot threshold: the next changes, made on
      // a full disk, start a snapshot and a new log.
      for (int i = 0; i < 3; ++i) {
        const std::string key = "prebig-" + std::to_string(i);
        const std::string value(1000, 'p');
        check(CodeOf(c.Call(DictSet("d", key, StringValue(value)))) == v1::OK, "SET " + key);
        ledger.acked[key] = value;
      }
    }
    const std::string filler = mnt + "/filler";
    if (!Fill(filler)) {
      std::perror("filling the tmpfs");
      return 101;
    }
    if (snapshots) {
      // A little room: some changes fit, enough to start a snapshot, which
      // then finds the disk full.
      struct stat st {};
      if (::stat(filler.c_str(), &st) != 0 || ::truncate(filler.c_str(), st.st_size - 8192) != 0) {
        std::perror("truncating the filler");
        return 102;
      }
    }
    // Writes go on until the log cannot grow (it may have room reserved).
    const std::string big(1000, 'b');
    bool refused = false;
    for (int i = 0; i < 5000 && !refused; ++i) {
      const std::string key = "fill-" + std::to_string(i);
      const v1::Response r = c.Call(DictSet("d", key, StringValue(big + key)));
      if (outcome(r, "SET " + key)) {
        ledger.acked[key] = big + key;
      } else {
        refused = true;
        ledger.refused.insert(key);
        // Nothing of it was applied.
        v1::Call get = MakeCall("d", v1::DICT, v1::GET);
        get.set_key(key);
        check(CodeOf(c.Call(get)) == v1::NOT_FOUND, "a refused SET was applied: " + key);
      }
    }
    check(refused, "5000 SETs of 1 KB went through on a full 2 MiB tmpfs");
    // Every kind of change is refused or acknowledged, never half-done.
    for (int i = 0; i < 3; ++i) {
      const std::string key = "more-" + std::to_string(i);
      if (outcome(c.Call(DictSet("d", key, StringValue(big + key))), "SET " + key)) {
        ledger.acked[key] = big + key;
      } else {
        ledger.refused.insert(key);
      }
      if (outcome(c.Call(CounterAdd("n", 10)), "ADD")) ledger.counter += 10;
      if (outcome(c.Call(QueuePut("q", StringValue(big))), "PUT")) ledger.puts += 1;
    }
    const PersistenceView p = PersistenceOf(c.Stats().stats());
    check(p.last_write_error.find("No space left") != std::string::npos,
          "Stats.persistence.last_write_error is '" + p.last_write_error + "'");

    // Reads work while the disk is full.
    v1::Call get = MakeCall("d", v1::DICT, v1::GET);
    get.set_key("pre-0");
    const v1::Response r = c.Call(get);
    check(CodeOf(r) == v1::OK && r.result().value().string_value() == "pre-0",
          "GET while full: " + r.status().message());
    check(c.Call(MakeCall("d", v1::DICT, v1::LEN)).result().count() ==
              static_cast<int64_t>(ledger.acked.size()),
          "LEN while full");
    check(c.Call(MakeCall("n", v1::COUNTER, v1::GET)).result().value().int_value() ==
              ledger.counter,
          "counter GET while full");
    check(CodeOf(c.List()) == v1::OK, "ListObjects while full");

    // Space again: writes succeed without a restart.
    check(::unlink(filler.c_str()) == 0, "unlink the filler");
    for (int i = 0; i < 5; ++i) {
      const std::string key = "post-" + std::to_string(i);
      const v1::Response w = c.Call(DictSet("d", key, StringValue(key)));
      check(CodeOf(w) == v1::OK, "SET " + key + " once there is room: " + w.status().message());
      if (CodeOf(w) == v1::OK) ledger.acked[key] = key;
    }
    const v1::Response add = c.Call(CounterAdd("n", 100));
    check(CodeOf(add) == v1::OK, "ADD once there is room: " + add.status().message());
    if (CodeOf(add) == v1::OK) ledger.counter += 100;
    const v1::Response put = c.Call(QueuePut("q", IntValue(1)));
    check(CodeOf(put) == v1::OK, "PUT once there is room: " + put.status().message());
    if (CodeOf(put) == v1::OK) ledger.puts += 1;
    const int stop = daemon.Stop();
    check(stop == 0, "SIGTERM exit status " + std::to_string(stop) + "; log:\n" + daemon.Stderr());
    check(!PathExists(state + "/snapshot.tmp"), "a failed snapshot left snapshot.tmp behind");
    std::istringstream lines(daemon.Stderr());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("snapshot") != std::string::npos || line.find("space") != std::string::npos) {
        std::fprintf(stderr, "ipcd said: %s\n", line.c_str());
      }
    }
  }

  // After a restart: what was acknowledged, nothing that was refused.
  DaemonProcess daemon = DaemonProcess::Start(flags);
  if (daemon.pid() <= 0) {
    std::fprintf(stderr, "FAILED: ipcd did not restart after the disk was full\n");
    return check.failed() + 1;
  }
  RawClient c = RawClient::Open(daemon.url());
  std::map<std::string, std::string> got;
  const v1::Response items = c.Call(MakeCall("d", v1::DICT, v1::ITEMS));
  for (const v1::Entry& e : items.result().items()) {
    got[e.key()] = e.value().string_value();
  }
  for (const auto& [key, value] : ledger.acked) {
    auto it = got.find(key);
    check(it != got.end() && it->second == value, "acknowledged SET of " + key + " lost");
  }
  for (const std::string& key : ledger.refused) {
    check(got.count(key) == 0, "refused SET of " + key + " is there after the restart");
  }
  check(got.size() == ledger.acked.size(),
        "the dict holds " + std::to_string(got.size()) + " keys, " +
            std::to_string(ledger.acked.size()) + " were acknowledged");
  const int64_t n = c.Call(MakeCall("n", v1::COUNTER, v1::GET)).result().value().int_value();
  check(n == ledger.counter,
        "counter " + std::to_string(n) + ", acknowledged " + std::to_string(ledger.counter));
  const int64_t len = c.Call(MakeCall("q", v1::QUEUE, v1::LEN)).result().count();
  check(len == ledger.puts,
        "queue length " + std::to_string(len) + ", acknowledged puts " + std::to_string(ledger.puts));
  check(daemon.Stop() == 0, "second SIGTERM");
  std::fprintf(stderr, "full disk: %zu SETs acknowledged, %zu refused\n", ledger.acked.size(),
               ledger.refused.size());
  return check.failed();
}

// Under always (each change synced before it is answered) and everysec
// (answered once written), with and without snapshots.
class StateEnospcTest
    : public ::testing::TestWithParam<std::tuple<bool, const char*>> {};

TEST_P(StateEnospcTest, AFullDiskRefusesChangesUntilThereIsRoomAgain) {
  ::unsetenv("STATE_DIRECTORY");
  const bool snapshots = std::get<0>(GetParam());
  const std::string fsync = std::get<1>(GetParam());
  TempDir work;
  const std::string mnt = work.File("mnt");
  ASSERT_TRUE(MakeDir(mnt));
  const pid_t child = ForkChild([&] { return MountSmallTmpfs(mnt) ? FullDisk(mnt, snapshots, fsync) : kNotPermitted; });
  const int rc = WaitChild(child, 50000);
  if (rc == kNotPermitted) {
    GTEST_SKIP() << "cannot mount a private tmpfs here (needs unshare(CLONE_NEWNS) and mount, "
                    "e.g. root); see the child's stderr";
  }
  EXPECT_LT(rc, 128) << "the child died by signal " << rc - 128;
  EXPECT_EQ(rc, 0) << "checks failed; the child printed each (FAILED: ...) on stderr";
}

INSTANTIATE_TEST_SUITE_P(Snapshots, StateEnospcTest,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Values("always", "everysec")),
                         [](const auto& param_info) {
                           return std::string(std::get<0>(param_info.param)
                                                  ? "With4KiBSnapshots_"
                                                  : "NoSnapshots_") +
                                  std::get<1>(param_info.param);
                         });

}  // namespace
}  // namespace ipc::testing
