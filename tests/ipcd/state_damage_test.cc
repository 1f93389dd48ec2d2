// Damaged and unusable state dirs. A torn last record of the newest log
// (a crash mid-append) is dropped with a warning; a bad record anywhere
// else stops ipcd from starting until `ipcctl check-state --repair` has cut
// the log at the damage (keeping the dropped bytes beside it). A state dir
// in use by another ipcd, or one ipcd cannot write, is refused.
//
// The state is a dict "d" whose keys key-00, key-01, ... are set by one
// request each, so each log record names the one key it sets and "what was
// before the damage" is the keys of the records before it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "raw_client.h"
#include "spawn.h"
#include "state_support.h"
#include "support/daemon_process.h"
#include "support/test_util.h"

namespace ipc::testing {
namespace {

constexpr int kKeys = 8;

std::string Key(int i) {
  char key[16];
  std::snprintf(key, sizeof key, "key-%02d", i);
  return key;
}

std::string ValueOf(int i) { return "value-" + std::to_string(i); }

// The key a record sets (-1: none of ours).
int KeyIn(const StateRecordSpan& record) {
  for (int i = 0; i < 100; ++i) {
    if (record.payload.find(Key(i)) != std::string::npos) return i;
  }
  return -1;
}

std::string FileHeaderBytes(const char* magic, uint64_t base_seq) {
  std::string h(magic, 8);
  const uint32_t version = 1, zero = 0;
  h.append(reinterpret_cast<const char*>(&version), 4);
  h.append(reinterpret_cast<const char*>(&zero), 4);
  h.append(reinterpret_cast<const char*>(&base_seq), 8);
  const uint32_t crc = Crc32c(h.data(), 24);
  h.append(reinterpret_cast<const char*>(&crc), 4);
  h.append(reinterpret_cast<const char*>(&zero), 4);
  return h;
}

class DamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("STATE_DIRECTORY");
    ASSERT_TRUE(MakeDir(state_));
    // kKeys requests, one key each, then a clean stop.
    DaemonProcess daemon = DaemonProcess::Start({"--state-dir", state_, "--fsync", "no"});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", Key(i), StringValue(ValueOf(i))))), v1::OK);
    }
    ASSERT_EQ(daemon.Stop(), 0) << daemon.Stderr();
    log_ = NewestLog(state_);
    ASSERT_FALSE(log_.empty()) << ::testing::PrintToString(ListDir(state_));
    original_ = ReadStateFile(log_);
    ASSERT_EQ(original_.end, original_.bytes.size()) << "a fresh log has damage";
    ASSERT_GE(original_.records.size(), static_cast<size_t>(kKeys))
        << "the newest log does not hold the records of the last " << kKeys << " changes";
    ASSERT_EQ(KeyIn(original_.records.back()), kKeys - 1)
        << "the newest log's last record is not the last change";
  }

  // The record that sets key i.
  const StateRecordSpan& RecordOf(int i) {
    for (const StateRecordSpan& r : original_.records) {
      if (KeyIn(r) == i) return r;
    }
    ADD_FAILURE() << "no record sets " << Key(i);
    return original_.records.back();
  }

  // The dict holds exactly keys 0..n-1 plus extra.
  static void ExpectKeys(RawClient& c, int n, const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> want = extra;
    for (int i = 0; i < n; ++i) want[Key(i)] = ValueOf(i);
    std::map<std::string, std::string> got;
    const v1::Response items = c.Call(MakeCall("d", v1::DICT, v1::ITEMS));
    for (const v1::Entry& e : items.result().items()) {
      got[e.key()] = e.value().string_value();
    }
    EXPECT_EQ(got, want);
  }

  // ipcd refuses dir: exit status 1; returns what it logged.
  std::string ExpectRefused(const std::string& dir) {
    std::string log;
    EXPECT_EQ(RunIpcd({"--socket", work_.File("refused.sock"), "--state-dir", dir}, &log), 1)
        << log;
    return log;
  }

  // After a refusal or a repair, ipcd starts on dir with keys 0..n-1; one
  // more change survives a restart.
  void ExpectStartsWith(const std::string& dir, int n) {
    {
      DaemonProcess daemon = DaemonProcess::Start({"--state-dir", dir});
      ASSERT_GT(daemon.pid(), 0);
      RawClient c = RawClient::Open(daemon.url());
      ExpectKeys(c, n);
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", "after", StringValue("a")))), v1::OK);
      EXPECT_EQ(daemon.Stop(), 0);
    }
    DaemonProcess daemon = DaemonProcess::Start({"--state-dir", dir});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    ExpectKeys(c, n, {{"after", "a"}});
    EXPECT_EQ(daemon.Stop(), 0);
  }

  TempDir work_;
  const std::string state_ = work_.File("state");
  std::string log_;
  StateFile original_;
};

// A crash mid-append leaves any prefix of the last record: each is dropped
// with a warning naming the log and the record's offset, and what came
// before it is all there. New records then go where the torn one was.
TEST_F(DamageTest, TornLastRecordIsDroppedAtEveryCut) {
  const StateRecordSpan last = original_.records.back();
  const std::string name = log_.substr(log_.rfind('/'));
  for (uint64_t cut = last.offset; cut < last.offset + last.size; ++cut) {
    SCOPED_TRACE("log cut to " + std::to_string(cut) + " bytes (last record at " +
                 std::to_string(last.offset) + ", " + std::to_string(last.size) + " bytes)");
    TempDir copy_root;
    const std::string copy = copy_root.File("state");
    ASSERT_TRUE(CopyDir(state_, copy));
    const std::string copy_log = copy + name;
    ASSERT_EQ(::truncate(copy_log.c_str(), static_cast<off_t>(cut)), 0);
    {
      DaemonProcess daemon = DaemonProcess::Start({"--state-dir", copy});
      ASSERT_GT(daemon.pid(), 0) << "ipcd refused a log with a torn last record";
      const std::string log = daemon.Stderr();
      if (cut > last.offset) {  // At the record's start the log ends cleanly.
        bool warned = false;
        std::istringstream lines(log);
        for (std::string line; std::getline(lines, line);) {
          if (line.find(copy_log) != std::string::npos && ContainsNumber(line, last.offset)) {
            warned = true;
          }
        }
        EXPECT_TRUE(warned) << "no line names " << copy_log << " and offset " << last.offset
                            << "; log:\n" << log;
      }
      RawClient c = RawClient::Open(daemon.url());
      ExpectKeys(c, kKeys - 1);
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", "after", StringValue("a")))), v1::OK);
      EXPECT_EQ(daemon.Stop(), 0);
    }
    // The next start finds a clean log holding the new record.
    const StateFile after = ReadStateFile(NewestLog(copy));
    EXPECT_EQ(after.end, after.bytes.size())
        << after.path << " is damaged at " << after.end << " after the torn record was dropped";
    DaemonProcess daemon = DaemonProcess::Start({"--state-dir", copy});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    ExpectKeys(c, kKeys - 1, {{"after", "a"}});
    EXPECT_EQ(daemon.Stop(), 0);
    if (HasFailure()) break;  // One cut's story is enough.
  }
}

// Zeros after the last record: the space a running ipcd reserves (and
// maps) ahead of its records, left by a crash, or a file system that shows
// a log longer than what was written after a power loss. The log ends
// where the zeros begin, whatever their length; new records go there.
TEST_F(DamageTest, AZeroFilledTailIsTheLogsEnd) {
  for (const size_t zeros : {size_t{1}, size_t{16}, size_t{4096}, size_t{65536}}) {
    SCOPED_TRACE(std::to_string(zeros) + " zero bytes after the last record");
    TempDir copy_root;
    const std::string copy = copy_root.File("state");
    ASSERT_TRUE(CopyDir(state_, copy));
    const std::string copy_log = copy + log_.substr(log_.rfind('/'));
    ASSERT_TRUE(WriteWholeFile(copy_log, original_.bytes + std::string(zeros, '\0')));
    DaemonProcess daemon = DaemonProcess::Start({"--state-dir", copy});
    ASSERT_GT(daemon.pid(), 0) << "ipcd refused a log with a zero tail";
    RawClient c = RawClient::Open(daemon.url());
    ExpectKeys(c, kKeys);
    ASSERT_EQ(CodeOf(c.Call(DictSet("d", "after", StringValue("a")))), v1::OK);
    EXPECT_EQ(daemon.Stop(), 0);
    const StateFile after = ReadStateFile(copy_log);
    EXPECT_EQ(after.end, after.bytes.size()) << "the zeros are still in " << copy_log;
    EXPECT_EQ(after.records.size(), original_.records.size() + 1);
    DaemonProcess again = DaemonProcess::Start({"--state-dir", copy});
    ASSERT_GT(again.pid(), 0);
    RawClient c2 = RawClient::Open(again.url());
    ExpectKeys(c2, kKeys, {{"after", "a"}});
    EXPECT_EQ(again.Stop(), 0);
  }
}

// A crash in the middle of copying a record into the mapped log: half of
// it, then zeros. A torn tail: dropped with a warning naming its offset.
TEST_F(DamageTest, ATornRecordBeforeAZeroTailIsATornTail) {
  const StateRecordSpan last = original_.records.back();
  std::string bytes = original_.bytes.substr(0, last.offset + last.size / 2);
  bytes.append(4096, '\0');
  const std::string copy_log = state_ + log_.substr(log_.rfind('/'));
  ASSERT_TRUE(WriteWholeFile(copy_log, bytes));
  DaemonProcess daemon = DaemonProcess::Start({"--state-dir", state_});
  ASSERT_GT(daemon.pid(), 0) << "ipcd refused a log with a torn record before zeros";
  EXPECT_TRUE(ContainsNumber(daemon.Stderr(), last.offset)) << daemon.Stderr();
  RawClient c = RawClient::Open(daemon.url());
  ExpectKeys(c, kKeys - 1);
  EXPECT_EQ(daemon.Stop(), 0);
}

enum class Field { kLength, kCrc, kSeq, kPayload };

void PrintTo(Field field, std::ostream* os) {
  static const char* const kNames[] = {"length", "crc", "seq", "payload"};
  *os << "a byte of the record's " << kNames[static_cast<int>(field)];
}

class MidLogDamageTest : public DamageTest, public ::testing::WithParamInterface<Field> {};

// A bad record with valid ones after it is not a crash's work: ipcd
// refuses to start, naming the file, the offset and the way out;
// check-state finds it; --repair cuts the log there, keeping the rest
// beside it; then ipcd starts with everything before the damage.
TEST_P(MidLogDamageTest, RefusesThenCheckStateRepairs) {
  const int damaged_key = 3;
  const StateRecordSpan record = RecordOf(damaged_key);
  uint64_t at = record.offset;
  switch (GetParam()) {
    case Field::kLength: at += 0; break;
    case Field::kCrc: at += 5; break;
    case Field::kSeq: at += 8; break;
    case Field::kPayload: at += kStateRecordHeaderBytes + record.payload.size() / 2; break;
  }
  std::string damaged = original_.bytes;
  damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
  ASSERT_TRUE(WriteWholeFile(log_, damaged));

  const std::string log = ExpectRefused(state_);
  EXPECT_NE(log.find(log_), std::string::npos) << "the file is not named:\n" << log;
  EXPECT_TRUE(ContainsNumber(log, record.offset)) << "offset " << record.offset << " not named:\n"
                                                  << log;
  EXPECT_NE(log.find("ipcctl check-state"), std::string::npos) << log;
  EXPECT_NE(log.find("--repair"), std::string::npos) << log;
  EXPECT_NE(log.find(state_), std::string::npos) << log;
  EXPECT_EQ(ReadFile(log_), damaged) << "a refused start changed the log";

  CommandResult check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 1) << check.all();
  EXPECT_NE(check.all().find(log_), std::string::npos) << check.all();
  EXPECT_TRUE(ContainsNumber(check.all(), record.offset)) << check.all();
  EXPECT_EQ(ReadFile(log_), damaged) << "check-state without --repair changed the log";

  CommandResult repair = RunIpcctl({"check-state", "--repair", state_});
  EXPECT_EQ(repair.exit_code, 0) << repair.all();
  const std::string aside = log_ + ".damaged-" + std::to_string(record.offset);
  EXPECT_TRUE(PathExists(aside)) << "no " << aside << "; files: "
                                 << ::testing::PrintToString(ListDir(state_));
  EXPECT_EQ(ReadFile(aside), damaged.substr(record.offset)) << "the dropped bytes are not kept";
  EXPECT_EQ(ReadFile(log_), damaged.substr(0, record.offset)) << "the log is not cut at the damage";

  check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 0) << "still damaged after --repair:\n" << check.all();
  // A second --repair finds nothing to do.
  const std::vector<std::string> files = ListDir(state_);
  repair = RunIpcctl({"check-state", "--repair", state_});
  EXPECT_EQ(repair.exit_code, 0) << repair.all();
  EXPECT_EQ(ListDir(state_), files);
  EXPECT_EQ(ReadFile(log_), damaged.substr(0, record.offset));

  ExpectStartsWith(state_, damaged_key);
}

INSTANTIATE_TEST_SUITE_P(Fields, MidLogDamageTest,
                         ::testing::Values(Field::kLength, Field::kCrc, Field::kSeq,
                                           Field::kPayload),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case Field::kLength: return "Length";
                             case Field::kCrc: return "Crc";
                             case Field::kSeq: return "Seq";
                             default: return "Payload";
                           }
                         });

// A clean dir: check-state exits 0 and names the log; a torn tail is clean
// with a warning (exit 0) too.
TEST_F(DamageTest, CheckStateOnACleanDirAndATornTail) {
  CommandResult check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 0) << check.all();
  EXPECT_NE(check.all().find(log_.substr(log_.rfind('/') + 1)), std::string::npos) << check.all();
  EXPECT_TRUE(ContainsNumber(check.all(), original_.records.back().seq))
      << "the last seq is not reported:\n" << check.all();
  const StateRecordSpan last = original_.records.back();
  ASSERT_EQ(::truncate(log_.c_str(), static_cast<off_t>(last.offset + last.size / 2)), 0);
  check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 0) << check.all();
  EXPECT_TRUE(ContainsNumber(check.all(), last.offset)) << check.all();
}

// Splits the log in two after record `first` records: a second log file
// with its own header, seqs going on across the two.
void SplitLog(const StateFile& log, size_t first, std::string* newer_path) {
  const StateRecordSpan& boundary = log.records[first];
  const std::string dir = log.path.substr(0, log.path.rfind('/'));
  char name[32];
  std::snprintf(name, sizeof name, "log.%020llu",
                static_cast<unsigned long long>(boundary.seq - 1));
  *newer_path = dir + "/" + name;
  ASSERT_TRUE(WriteWholeFile(*newer_path, FileHeaderBytes("IPCDLOG1", boundary.seq - 1) +
                                              log.bytes.substr(boundary.offset)));
  ASSERT_EQ(::truncate(log.path.c_str(), static_cast<off_t>(boundary.offset)), 0);
}

TEST_F(DamageTest, RecordsSplitOverTwoLogsAllLoad) {
  std::string newer;
  SplitLog(original_, 4, &newer);
  ASSERT_EQ(LogFiles(state_).size(), 2u);
  ExpectStartsWith(state_, kKeys);
}

// A log that is not the newest ends in a torn record: that is damage, not
// a crash mid-append. --repair cuts it and moves the later log aside.
TEST_F(DamageTest, TornRecordInALogThatIsNotTheNewestRefuses) {
  std::string newer;
  SplitLog(original_, 4, &newer);
  const StateRecordSpan& torn = original_.records[3];
  const int torn_key = KeyIn(torn);
  ASSERT_GE(torn_key, 0);
  ASSERT_EQ(::truncate(log_.c_str(), static_cast<off_t>(torn.offset + torn.size - 3)), 0);
  const std::string cut = ReadFile(log_);

  const std::string log = ExpectRefused(state_);
  EXPECT_NE(log.find(log_), std::string::npos) << log;
  EXPECT_TRUE(ContainsNumber(log, torn.offset)) << log;
  EXPECT_NE(log.find("check-state"), std::string::npos) << log;

  CommandResult check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 1) << check.all();
  EXPECT_NE(check.all().find(log_), std::string::npos) << check.all();

  CommandResult repair = RunIpcctl({"check-state", "--repair", state_});
  EXPECT_EQ(repair.exit_code, 0) << repair.all();
  const std::string aside = log_ + ".damaged-" + std::to_string(torn.offset);
  EXPECT_TRUE(PathExists(aside)) << ::testing::PrintToString(ListDir(state_));
  EXPECT_EQ(ReadFile(aside), cut.substr(torn.offset));
  EXPECT_EQ(LogFiles(state_), std::vector<std::string>{log_})
      << "the later log was not moved aside";
  bool newer_kept = false;
  for (const std::string& f : ListDir(state_)) {
    if (f.rfind(newer.substr(newer.rfind('/') + 1) + ".damaged-", 0) == 0) newer_kept = true;
  }
  EXPECT_TRUE(newer_kept) << "the later log's bytes are not kept: "
                          << ::testing::PrintToString(ListDir(state_));
  ExpectStartsWith(state_, torn_key);
}

// A log missing between two others leaves a gap in the sequence numbers:
// records lost, so ipcd refuses to start.
TEST_F(DamageTest, AMissingLogInTheMiddleRefuses) {
  std::string newest, middle;
  SplitLog(original_, 6, &newest);
  SplitLog(ReadStateFile(log_), 3, &middle);
  ASSERT_EQ(LogFiles(state_).size(), 3u);
  ExpectStartsWith(state_, kKeys);  // Three logs in a row are fine...
  ASSERT_EQ(::unlink(middle.c_str()), 0);  // ...one missing is not.
  const std::string log = ExpectRefused(state_);
  EXPECT_NE(log.find("check-state"), std::string::npos) << log;
  CommandResult check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 1) << check.all();
}

// A snapshot.tmp left by a snapshot that never finished is not a snapshot.
TEST_F(DamageTest, ALeftoverSnapshotTmpIsIgnored) {
  ASSERT_TRUE(WriteWholeFile(state_ + "/snapshot.tmp", "IPCDSNP1 and then garbage"));
  DaemonProcess daemon = DaemonProcess::Start({"--state-dir", state_});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  ExpectKeys(c, kKeys);
  EXPECT_EQ(daemon.Stop(), 0);
  EXPECT_FALSE(PathExists(state_ + "/snapshot.tmp"))
      << "a stale snapshot.tmp outlives a run that wrote no snapshot";
}

// A new log is written under a temporary name and renamed whole; a crash
// before the rename leaves that file, which is not a log.
TEST_F(DamageTest, ALeftoverLogTmpIsIgnored) {
  char name[64];
  std::snprintf(name, sizeof name, "/log.%020llu.tmp",
                static_cast<unsigned long long>(original_.records.back().seq));
  ASSERT_TRUE(WriteWholeFile(state_ + name, "IPCDLOG"));
  DaemonProcess daemon = DaemonProcess::Start({"--state-dir", state_});
  ASSERT_GT(daemon.pid(), 0);
  RawClient c = RawClient::Open(daemon.url());
  ExpectKeys(c, kKeys);
  EXPECT_EQ(daemon.Stop(), 0);
  const CommandResult check = RunIpcctl({"check-state", state_});
  EXPECT_EQ(check.exit_code, 0) << check.all();
}

// A damaged snapshot refuses the start too.
TEST(SnapshotDamageTest, DamagedSnapshotRefuses) {
  TempDir work;
  const std::string state = work.File("state");
  ASSERT_TRUE(MakeDir(state));
  {
    DaemonProcess daemon = DaemonProcess::Start({"--state-dir", state, "--snapshot-after-bytes", "4096"});
    ASSERT_GT(daemon.pid(), 0);
    RawClient c = RawClient::Open(daemon.url());
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(CodeOf(c.Call(DictSet("d", Key(i), StringValue(std::string(100, 's'))))), v1::OK);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!PathExists(state + "/snapshot") && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(PathExists(state + "/snapshot")) << daemon.Stderr();
    EXPECT_EQ(daemon.Stop(), 0);
  }
  const std::string path = state + "/snapshot";
  const StateFile snapshot = ReadStateFile(path);
  ASSERT_FALSE(snapshot.records.empty());
  // The biggest record (a snapshot may be one record per object and an
  // empty end record).
  size_t biggest = 0;
  for (size_t i = 0; i < snapshot.records.size(); ++i) {
    if (snapshot.records[i].payload.size() > snapshot.records[biggest].payload.size()) biggest = i;
  }
  const StateRecordSpan& r = snapshot.records[biggest];
  ASSERT_GT(r.payload.size(), 0u);
  std::string bytes = snapshot.bytes;
  const uint64_t at = r.offset + kStateRecordHeaderBytes + r.payload.size() / 2;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x40);
  ASSERT_TRUE(WriteWholeFile(path, bytes));
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", work.File("s.sock"), "--state-dir", state}, &log), 1) << log;
  EXPECT_NE(log.find(path), std::string::npos) << log;
  EXPECT_TRUE(ContainsNumber(log, r.offset)) << log;
  EXPECT_NE(log.find("check-state"), std::string::npos) << log;
  CommandResult check = RunIpcctl({"check-state", state});
  EXPECT_EQ(check.exit_code, 1) << check.all();
  EXPECT_NE(check.all().find(path), std::string::npos) << check.all();
}

TEST(StateDirTest, ADirInUseByAnotherIpcdIsRefused) {
  TempDir work;
  const std::string state = work.File("state");
  ASSERT_TRUE(MakeDir(state));
  DaemonProcess first = DaemonProcess::Start({"--state-dir", state});
  ASSERT_GT(first.pid(), 0);
  EXPECT_NE(ReadFile(state + "/LOCK").find(std::to_string(first.pid())), std::string::npos)
      << "LOCK does not hold the pid";
  std::string log;
  EXPECT_EQ(RunIpcd({"--socket", work.File("second.sock"), "--state-dir", state}, &log), 1)
      << log;
  EXPECT_NE(log.find("in use"), std::string::npos) << log;
  EXPECT_NE(log.find(state), std::string::npos) << log;
  EXPECT_TRUE(ContainsNumber(log, static_cast<uint64_t>(first.pid()))) << log;
  // The first one is unharmed.
  RawClient c = RawClient::Open(first.url());
  EXPECT_EQ(CodeOf(c.Call(CounterAdd("n", 1))), v1::OK);
  EXPECT_EQ(first.Stop(), 0);
  // Once it has gone, the dir is free (a stale LOCK file is no obstacle).
  DaemonProcess second = DaemonProcess::Start({"--state-dir", state});
  ASSERT_GT(second.pid(), 0);
  EXPECT_EQ(second.Stop(), 0);
}

TEST(StateDirTest, ADirThatCannotBeWrittenIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: ipcd runs as uid 65534 (setpriv) on a dir it may not write";
  }
  if (!PathExists("/usr/bin/setpriv")) GTEST_SKIP() << "no /usr/bin/setpriv";
  constexpr uid_t kNobody = 65534;
  TempDir work;
  ASSERT_EQ(::chmod(work.path().c_str(), 0755), 0);
  const std::string state = work.File("state"), sock = work.File("sock");
  ASSERT_TRUE(MakeDir(state));
  ASSERT_TRUE(MakeDir(sock));
  ASSERT_EQ(::chown(state.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chown(sock.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chmod(state.c_str(), 0500), 0);
  const CommandResult r = RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", IpcdBinary(), "--socket",
                                      sock + "/ipcd.sock", "--state-dir", state});
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.all().find(state), std::string::npos) << r.all();
  EXPECT_NE(r.all().find("Permission denied"), std::string::npos) << r.all();
}

}  // namespace
}  // namespace ipc::testing
