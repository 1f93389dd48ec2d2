// ipcctl as people and scripts run it, against a real ipcd: every command
// in both output forms, the missing-daemon line, and bad usage.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ipc/channel.h"
#include "ipc/manager.h"
#include "support/daemon_process.h"
#include "support/redis_server.h"
#include "support/test_util.h"

#ifndef IPCCTL_PATH
#error "tests/manager/CMakeLists.txt defines IPCCTL_PATH"
#endif

namespace ipc::testing {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class IpcctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = DaemonProcess::Start();
    ASSERT_GT(daemon_.pid(), 0);
  }

  // Runs ipcctl --socket <the daemon's> args... and collects its output.
  RunResult Ipcctl(std::vector<std::string> args, bool with_socket = true) {
    if (with_socket)
      args.insert(args.begin(), {"--socket", daemon_.socket_path()});
    return Exec(std::move(args));
  }

  RunResult Exec(std::vector<std::string> args) {
    args.insert(args.begin(), IPCCTL_PATH);
    const std::string out_path = dir_.File("out"), err_path = dir_.File("err");
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int out =
          ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err =
          ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    RunResult run;
    run.exit_code = WaitChild(pid);
    run.out = ReadFile(out_path);
    run.err = ReadFile(err_path);
    return run;
  }

  std::string Name(const std::string& prefix) { return UniqueName(prefix); }

  DaemonProcess daemon_;
  TempDir dir_;
};

#define EXPECT_RUN(run, code, stdout_text)                  \
  do {                                                      \
    const RunResult& r_ = (run);                            \
    EXPECT_EQ(r_.exit_code, code) << "stderr: " << r_.err;  \
    EXPECT_EQ(r_.out, stdout_text) << "stderr: " << r_.err; \
  } while (0)

TEST_F(IpcctlTest, CounterHuman) {
  const std::string name = Name("hits");
  EXPECT_RUN(Ipcctl({"counter", "get", name}), 0, "0\n");
  EXPECT_RUN(Ipcctl({"counter", "add", name}), 0, "1\n");
  EXPECT_RUN(Ipcctl({"counter", "add", name, "41"}), 0, "42\n");
  EXPECT_RUN(Ipcctl({"counter", "add", name, "-2"}), 0, "40\n");
  EXPECT_RUN(Ipcctl({"counter", "set", name, "7"}), 0, "7\n");
  EXPECT_RUN(Ipcctl({"counter", "get", name}), 0, "7\n");
}

TEST_F(IpcctlTest, CounterJson) {
  const std::string name = Name("hits");
  EXPECT_RUN(Ipcctl({"--json", "counter", "add", name, "5"}), 0,
             "{\"counter\":\"" + name + "\",\"value\":5}\n");
  EXPECT_RUN(Ipcctl({"counter", "get", name, "--json"}), 0,
             "{\"counter\":\"" + name + "\",\"value\":5}\n");
}

TEST_F(IpcctlTest, DictHuman) {
  const std::string name = Name("cfg");
  EXPECT_RUN(Ipcctl({"dict", "set", name, "port", "8080"}), 0, "");
  EXPECT_RUN(Ipcctl({"dict", "set", name, "host", "db"}), 0, "");
  EXPECT_RUN(Ipcctl({"dict", "set", name, "ratio", "0.5"}), 0, "");
  EXPECT_RUN(Ipcctl({"dict", "get", name, "port"}), 0, "8080\n");
  EXPECT_RUN(Ipcctl({"dict", "get", name, "host"}), 0, "db\n");
  EXPECT_RUN(Ipcctl({"dict", "items", name}), 0,
             "host = db\nport = 8080\nratio = 0.5\n");
  EXPECT_RUN(Ipcctl({"dict", "del", name, "host"}), 0, "");
  const RunResult missing = Ipcctl({"dict", "get", name, "host"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_TRUE(missing.err.starts_with("ipcctl: ")) << missing.err;
  EXPECT_NE(missing.err.find("host"), std::string::npos) << missing.err;
}

TEST_F(IpcctlTest, DictJson) {
  const std::string name = Name("cfg");
  const std::string dict = "\"dict\":\"" + name + "\"";
  EXPECT_RUN(Ipcctl({"--json", "dict", "set", name, "on", "true"}), 0,
             "{" + dict + ",\"key\":\"on\",\"value\":true}\n");
  EXPECT_RUN(Ipcctl({"--json", "dict", "set", name, "text", "hello world"}), 0,
             "{" + dict + ",\"key\":\"text\",\"value\":\"hello world\"}\n");
  EXPECT_RUN(Ipcctl({"--json", "dict", "get", name, "on"}), 0,
             "{" + dict + ",\"key\":\"on\",\"value\":true}\n");
  EXPECT_RUN(
      Ipcctl({"--json", "dict", "items", name}), 0,
      "{" + dict + ",\"items\":{\"on\":true,\"text\":\"hello world\"}}\n");
  EXPECT_RUN(Ipcctl({"--json", "dict", "del", name, "on"}), 0,
             "{" + dict + ",\"key\":\"on\",\"value\":true,\"deleted\":true}\n");
}

TEST_F(IpcctlTest, QueueHumanAndJson) {
  const std::string name = Name("jobs");
  EXPECT_RUN(Ipcctl({"queue", "put", name, "first"}), 0, "");
  EXPECT_RUN(Ipcctl({"--json", "queue", "put", name, "2"}), 0,
             "{\"queue\":\"" + name + "\",\"value\":2}\n");
  EXPECT_RUN(Ipcctl({"queue", "get", name}), 0, "first\n");
  EXPECT_RUN(Ipcctl({"--json", "queue", "get", name, "--timeout", "5"}), 0,
             "{\"queue\":\"" + name + "\",\"value\":2}\n");
  // Empty: without --timeout it does not wait.
  RunResult empty = Ipcctl({"queue", "get", name});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_TRUE(empty.err.starts_with("ipcctl: ")) << empty.err;
  empty = Ipcctl({"queue", "get", name, "--timeout", "0.05"});
  EXPECT_EQ(empty.exit_code, 1);
}

TEST_F(IpcctlTest, QueueOrdersAndTasks) {
  const std::string name = Name("urgent");
  EXPECT_RUN(Ipcctl({"queue", "create", name, "0", "priority"}), 0, "");
  EXPECT_RUN(Ipcctl({"queue", "put", name, "later", "5"}), 0, "");
  EXPECT_RUN(Ipcctl({"queue", "put", name, "first", "-1"}), 0, "");
  EXPECT_RUN(Ipcctl({"queue", "get", name}), 0, "first\n");
  EXPECT_RUN(Ipcctl({"queue", "task-done", name}), 0, "1\n");
  RunResult join = Ipcctl({"queue", "join", name, "--timeout", "0.05"});
  EXPECT_EQ(join.exit_code, 1);
  EXPECT_NE(join.err.find("still has 1 unfinished tasks"), std::string::npos) << join.err;
  EXPECT_RUN(Ipcctl({"queue", "get", name}), 0, "later\n");
  EXPECT_RUN(Ipcctl({"--json", "queue", "task-done", name}), 0,
             "{\"queue\":\"" + name + "\",\"value\":0}\n");
  EXPECT_RUN(Ipcctl({"queue", "join", name}), 0, "");
  RunResult other = Ipcctl({"queue", "create", name, "0", "lifo"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("exists as a priority queue"), std::string::npos) << other.err;
  EXPECT_EQ(Ipcctl({"queue", "create", name, "0", "sideways"}).exit_code, 2);
  EXPECT_EQ(Ipcctl({"queue", "put", name, "x", "high"}).exit_code, 2);
}

TEST_F(IpcctlTest, LsHumanAndJson) {
  const std::string name = Name("listed");
  ASSERT_EQ(Ipcctl({"counter", "set", name, "3"}).exit_code, 0);
  const RunResult human = Ipcctl({"ls"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(human.out.starts_with("NAME")) << human.out;
  EXPECT_NE(human.out.find(name), std::string::npos) << human.out;
  const RunResult json = Ipcctl({"ls", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("{\"name\":\"" + name +
                          "\",\"kind\":\"counter\",\"size\":3,"),
            std::string::npos)
      << json.out;
  EXPECT_TRUE(json.out.starts_with("[") && json.out.ends_with("]\n"))
      << json.out;
}

TEST_F(IpcctlTest, ListKindHumanAndJson) {
  const std::string name = Name("items");
  ASSERT_EQ(Ipcctl({"list", "append", name, "1"}).exit_code, 0);
  ASSERT_EQ(Ipcctl({"list", "append", name, "two"}).exit_code, 0);
  ASSERT_EQ(Ipcctl({"--json", "list", "append", name, "3"}).out,
            "{\"list\":\"" + name + "\",\"value\":3}\n");
  EXPECT_EQ(Ipcctl({"list", "items", name}).out, "1\ntwo\n3\n");
  EXPECT_EQ(Ipcctl({"--json", "list", "items", name}).out,
            "{\"list\":\"" + name + "\",\"items\":[1,\"two\",3]}\n");
  EXPECT_EQ(Ipcctl({"list", "get", name, "-2"}).out, "two\n");
  EXPECT_EQ(Ipcctl({"list", "pop", name, "0"}).out, "1\n");
  EXPECT_EQ(Ipcctl({"--json", "list", "len", name}).out,
            "{\"list\":\"" + name + "\",\"len\":2}\n");
  const RunResult out_of_range = Ipcctl({"list", "get", name, "7"});
  EXPECT_EQ(out_of_range.exit_code, 1);
  EXPECT_NE(out_of_range.err.find("index 7 is out of range for length 2"), std::string::npos)
      << out_of_range.err;
  EXPECT_EQ(Ipcctl({"list", "get", name, "x"}).exit_code, 2);
  EXPECT_EQ(Ipcctl({"list", "frob", name}).exit_code, 2);
}

TEST_F(IpcctlTest, SemaphoreHumanAndJson) {
  const std::string name = Name("sem");
  EXPECT_EQ(Ipcctl({"semaphore", "get", name}).out, "1\n") << "a missing one reads 1 unit";
  EXPECT_EQ(Ipcctl({"semaphore", "release", name}).out, "2\n");
  EXPECT_EQ(Ipcctl({"--json", "semaphore", "get", name}).out,
            "{\"semaphore\":\"" + name + "\",\"free\":2}\n");
  const std::string bounded = Name("bsem");
  const RunResult past = Ipcctl({"bsemaphore", "release", bounded});
  EXPECT_EQ(past.exit_code, 1);
  EXPECT_NE(past.err.find("released too many times"), std::string::npos) << past.err;
  EXPECT_EQ(Ipcctl({"semaphore", "frob", name}).exit_code, 2);
}

// A client waits on a condition; ipcctl shows it and wakes it, taking
// the condition's lock as a notify must.
TEST_F(IpcctlTest, ConditionGetAndNotify) {
  using std::chrono::seconds;
  const std::string lock_name = Name("lock"), cond = Name("cond");
  auto waiter_manager = Manager::Connect(daemon_.url());
  auto observer = Manager::Connect(daemon_.url());
  ASSERT_TRUE(waiter_manager.ok() && observer.ok());
  Status waited(ErrorCode::kInternal, "not run");
  std::thread waiter([&] {
    auto lock = waiter_manager->Lock(lock_name);
    if (!lock.AcquireRaw(seconds(30)).ok()) return;
    waited = waiter_manager->Condition(cond, lock).Wait(seconds(30));
    (void)lock.Release();
  });
  while (observer->Condition(cond, lock_name).Waiting().value_or(0) != 1) {
    std::this_thread::yield();
  }
  EXPECT_RUN(Ipcctl({"condition", "get", cond}), 0,
             "lock " + lock_name + ", 1 waiting\n");
  EXPECT_RUN(Ipcctl({"--json", "condition", "get", cond}), 0,
             "{\"condition\":\"" + cond + "\",\"lock\":\"" + lock_name +
                 "\",\"waiting\":1}\n");
  const RunResult zero = Ipcctl({"condition", "notify", cond, "0"});
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_NE(zero.err.find("count >= 1"), std::string::npos) << zero.err;
  EXPECT_RUN(Ipcctl({"--json", "condition", "notify", cond}), 0,
             "{\"condition\":\"" + cond + "\",\"woken\":1}\n");
  waiter.join();
  EXPECT_TRUE(waited.ok()) << waited;
  EXPECT_RUN(Ipcctl({"condition", "notify-all", cond}), 0, "0\n");

  // The lock held elsewhere: without --timeout, ipcctl does not wait.
  ASSERT_TRUE(observer->Lock(lock_name).AcquireRaw(seconds(30)).ok());
  const RunResult busy = Ipcctl({"condition", "notify", cond});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("held by another connection"), std::string::npos)
      << busy.err;
  const RunResult missing = Ipcctl({"condition", "get", Name("none")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no condition"), std::string::npos) << missing.err;
  EXPECT_EQ(Ipcctl({"condition", "notify", cond, "x"}).exit_code, 2);
  EXPECT_EQ(Ipcctl({"condition", "get", cond, "--timeout", "1"}).exit_code, 2);
}

TEST_F(IpcctlTest, ValueAndNamespaceHumanAndJson) {
  const std::string value = Name("val"), ns = Name("ns");
  EXPECT_EQ(Ipcctl({"value", "get", value}).out, "null\n");
  ASSERT_EQ(Ipcctl({"value", "set", value, "12"}).exit_code, 0);
  EXPECT_EQ(Ipcctl({"--json", "value", "get", value}).out,
            "{\"value\":\"" + value + "\",\"is\":12}\n");
  ASSERT_EQ(Ipcctl({"namespace", "set", ns, "mode", "fast"}).exit_code, 0);
  ASSERT_EQ(Ipcctl({"namespace", "set", ns, "level", "3"}).exit_code, 0);
  EXPECT_EQ(Ipcctl({"namespace", "get", ns, "mode"}).out, "fast\n");
  EXPECT_EQ(Ipcctl({"namespace", "items", ns}).out, "level = 3\nmode = fast\n");
  EXPECT_EQ(Ipcctl({"--json", "namespace", "items", ns}).out,
            "{\"namespace\":\"" + ns + "\",\"attributes\":{\"level\":3,\"mode\":\"fast\"}}\n");
  const RunResult missing = Ipcctl({"namespace", "get", ns, "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no key 'nope'"), std::string::npos) << missing.err;
  EXPECT_EQ(Ipcctl({"value", "frob", value}).exit_code, 2);
}

// ls pages through every object (the daemon sends at most 1,000 a page),
// and ls PREFIX keeps those whose names start with it.
TEST_F(IpcctlTest, ListPagesThroughEveryObjectAndFiltersByPrefix) {
  auto manager = Manager::Connect(daemon_.url());
  ASSERT_TRUE(manager.ok()) << manager.status();
  auto batch = manager->Batch();
  for (int i = 0; i < 2500; ++i) batch.CounterAdd("many/" + std::to_string(10000 + i), 1);
  batch.CounterAdd("other", 1);
  ASSERT_TRUE(batch.Run().ok());
  const RunResult all = Ipcctl({"ls", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  size_t listed = 0;
  for (size_t at = 0; (at = all.out.find("\"name\":", at)) != std::string::npos; ++at) ++listed;
  EXPECT_EQ(listed, 2501u);
  EXPECT_NE(all.out.find("\"many/12499\""), std::string::npos);
  const RunResult some = Ipcctl({"ls", "many/1249"});
  ASSERT_EQ(some.exit_code, 0) << some.err;
  EXPECT_NE(some.out.find("many/12490"), std::string::npos) << some.out;
  EXPECT_EQ(some.out.find("many/12489"), std::string::npos) << some.out;
  EXPECT_EQ(some.out.find("other"), std::string::npos) << some.out;
  EXPECT_EQ(Ipcctl({"ls", "a", "b"}).exit_code, 2);
}

TEST_F(IpcctlTest, StatsHumanAndJson) {
  const RunResult human = Ipcctl({"stats"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("url: " + daemon_.url() + "\n"), std::string::npos)
      << human.out;
  EXPECT_NE(human.out.find("\nclients: "), std::string::npos) << human.out;
  const RunResult json = Ipcctl({"--json", "stats"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(json.out.starts_with("{\"url\":\"" + daemon_.url() +
                                   "\",\"server_version\":"))
      << json.out;
  EXPECT_NE(json.out.find("\"max_frame_bytes\":"), std::string::npos)
      << json.out;
}

TEST_F(IpcctlTest, UrlOptionWorksLikeSocket) {
  const RunResult run =
      Exec({"--url", daemon_.url(), "counter", "add", Name("c")});
  EXPECT_RUN(run, 0, "1\n");
}

TEST_F(IpcctlTest, MissingDaemonIsOneLineNamingTheSocket) {
  const std::string socket = dir_.File("nobody.sock");
  const RunResult run = Exec({"--socket", socket, "ls"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "ipcctl: ipcd at unix://" + socket +
                ": not running (connect: No such file or directory)\n");
}

TEST_F(IpcctlTest, DefaultSocketComesFromTheEnvironment) {
  ::setenv("IPCD_SOCKET", daemon_.socket_path().c_str(), 1);
  const RunResult run = Exec({"counter", "add", Name("c"), "2"});
  ::unsetenv("IPCD_SOCKET");
  EXPECT_RUN(run, 0, "2\n");
}

TEST_F(IpcctlTest, BadUsageExitsTwoWithUsage) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"counter"},
           {"counter", "add", "x", "notanumber"},
           {"dict", "get", "only-name"},
           {"queue", "put", "q"},
           {"--bogus", "ls"},
           {"--socket"},
           {"ls", "--timeout", "1"},
           {"--socket", "a", "--url", "unix:///b", "ls"}}) {
    const RunResult run = Exec(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(run.exit_code, 2) << "ipcctl " << joined;
    EXPECT_NE(run.err.find("usage: ipcctl"), std::string::npos)
        << "ipcctl " << joined;
  }
}

TEST_F(IpcctlTest, HelpExitsZero) {
  const RunResult run = Exec({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(run.out.starts_with("usage: ipcctl")) << run.out;
}

TEST_F(IpcctlTest, ObjectsAndCleanDryRunNeedNoDaemon) {
  const RunResult objects = Exec({"objects", "--json"});
  EXPECT_EQ(objects.exit_code, 0) << objects.err;
  EXPECT_TRUE(objects.out.starts_with("[")) << objects.out;
  // A name that matches nothing is said to, as without --dry-run.
  const RunResult clean = Exec({"clean", "--dry-run", "no-such-object"});
  EXPECT_EQ(clean.exit_code, 1) << clean.out;
  EXPECT_NE(clean.err.find("no libipc object 'no-such-object'"), std::string::npos)
      << clean.err;
}

TEST_F(IpcctlTest, AuthKeyFileOverTcp) {
  // The daemon cannot report a port it picked: take one free a moment ago.
  const std::string key_file = dir_.File("key");
  std::ofstream(key_file) << "sesame\n";
  ::chmod(key_file.c_str(), 0600);
  auto listener = ipc::Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(listener.ok()) << listener.status();
  const std::string url = listener->url();
  listener->Close();
  DaemonProcess tcp_daemon =
      DaemonProcess::Start({"--listen", url, "--authkey-file", key_file});
  ASSERT_GT(tcp_daemon.pid(), 0);
  EXPECT_RUN(
      Exec({"--url", url, "--authkey-file", key_file, "counter", "add", "k"}),
      0, "1\n");
  const RunResult no_key = Exec({"--url", url, "counter", "add", "k"});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find("requires an authentication key"),
            std::string::npos)
      << no_key.err;
  const std::string wrong_file = dir_.File("wrong");
  std::ofstream(wrong_file) << "not sesame\n";
  ::chmod(wrong_file.c_str(), 0600);
  const RunResult wrong =
      Exec({"--url", url, "--authkey-file", wrong_file, "counter", "get", "k"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(wrong.err.starts_with("ipcctl: ")) << wrong.err;
  EXPECT_EQ(wrong.err.find('\n'), wrong.err.size() - 1)
      << wrong.err;  // One line.
}

// ipcctl watch as a person runs it beside changes made by others: a line
// for the current state, then one per change as it happens, in both forms;
// it ends once --timeout seconds pass without a change.
TEST_F(IpcctlTest, WatchPrintsALinePerChangeAsItHappens) {
  const std::string name = Name("watched");
  auto manager = Manager::Connect(daemon_.url());
  ASSERT_TRUE(manager.ok()) << manager.status();
  for (const bool json : {false, true}) {
    ASSERT_TRUE(manager->Dict(name).Set("a", 1).ok());
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    std::vector<std::string> args = {IPCCTL_PATH, "--socket", daemon_.socket_path(),
                                     "watch", name, "--timeout", "2"};
    if (json) args.insert(args.begin() + 1, "--json");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* lines = ::fdopen(out[0], "r");
    ASSERT_NE(lines, nullptr);
    char line[4096];
    // The current state comes first: after it, every change is seen.
    ASSERT_NE(std::fgets(line, sizeof(line), lines), nullptr);
    std::vector<std::string> got = {line};
    ASSERT_TRUE(manager->Dict(name).Set("b", "two").ok());
    ASSERT_TRUE(manager->Dict(name).Delete("a").ok());
    ASSERT_TRUE(manager->Destroy(name).ok());
    while (std::fgets(line, sizeof(line), lines) != nullptr) got.push_back(line);
    std::fclose(lines);
    EXPECT_EQ(WaitChild(pid), 0);
    ASSERT_EQ(got.size(), 4u);
    if (!json) {
      EXPECT_NE(got[0].find(" state {\"a\":1}"), std::string::npos) << got[0];
      EXPECT_NE(got[1].find(" SET b=two"), std::string::npos) << got[1];
      EXPECT_NE(got[2].find(" DELETE -a"), std::string::npos) << got[2];
      EXPECT_NE(got[3].find(" DESTROY (none)"), std::string::npos) << got[3];
      continue;
    }
    EXPECT_NE(got[0].find("\"resync\":true,\"missed\":0,\"exists\":true,"
                          "\"kind\":\"dict\",\"op\":null"),
              std::string::npos)
        << got[0];
    EXPECT_NE(got[0].find("\"items\":{\"a\":1}"), std::string::npos) << got[0];
    EXPECT_NE(got[1].find("\"op\":\"SET\",\"value\":null,\"items\":{\"b\":\"two\"}"),
              std::string::npos)
        << got[1];
    EXPECT_NE(got[2].find("\"removed\":[\"a\"]"), std::string::npos) << got[2];
    EXPECT_NE(got[3].find("\"exists\":false"), std::string::npos) << got[3];
  }
  const RunResult keyed = Ipcctl({"watch", name, "key", "extra"});
  EXPECT_EQ(keyed.exit_code, 2) << keyed.err;
}

// ipcctl --url redis...: the same commands on the Manager's Redis backend,
// the password from a file or the environment, and watch refused by name.
TEST_F(IpcctlTest, WorksOnRedisWithThePasswordFromAFileOrTheEnvironment) {
  auto redis = RedisServer::Start({.password = "pw-123"});
  ASSERT_GT(redis.pid(), 0);
  const std::string url = redis.url();
  const std::string key_file = dir_.File("redis.key");
  {
    std::ofstream out(key_file);
    out << "pw-123\n";
  }
  ASSERT_EQ(::chmod(key_file.c_str(), 0600), 0);
  RunResult add = Exec({"--url", url, "--authkey-file", key_file, "counter", "add", "hits", "5"});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.out, "5\n");
  ::setenv("IPC_AUTHKEY", "pw-123", 1);
  RunResult ls = Exec({"--url", url, "ls"});
  RunResult dict = Exec({"--url", url, "dict", "set", "cfg", "port", "8080"});
  RunResult get = Exec({"--url", url, "--json", "dict", "get", "cfg", "port"});
  RunResult watch = Exec({"--url", url, "watch", "cfg", "--timeout", "1"});
  ::unsetenv("IPC_AUTHKEY");
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("hits"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("counter"), std::string::npos) << ls.out;
  EXPECT_EQ(dict.exit_code, 0) << dict.err;
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find("8080"), std::string::npos) << get.out;
  EXPECT_EQ(watch.exit_code, 1);
  EXPECT_NE(watch.err.find("not available on the Redis backend"), std::string::npos) << watch.err;
  RunResult refused = Exec({"--url", url, "counter", "get", "hits"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("password"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("pw-123"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace ipc::testing
