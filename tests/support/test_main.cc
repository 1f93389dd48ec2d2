// main() for every gtest binary: installs a watchdog so that a test that
// hangs fails on its own, with its name, instead of eating CI's time budget.
// IPC_TEST_TIMEOUT_S overrides the per-test limit (default 60 s).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int TimeoutSeconds() {
  const char* env = std::getenv("IPC_TEST_TIMEOUT_S");
  const int value = env ? std::atoi(env) : 0;
  return value > 0 ? value : 60;
}

char g_current_test[256] = "(between tests)";

void OnAlarm(int) {
  // Only async-signal-safe calls here.
  const char prefix[] = "\n*** watchdog: test hung: ";
  (void)!write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
  (void)!write(STDERR_FILENO, g_current_test, strlen(g_current_test));
  (void)!write(STDERR_FILENO, "\n", 1);
  // Take the whole process group down, so forked children cannot linger.
  signal(SIGTERM, SIG_IGN);
  kill(0, SIGTERM);
  _exit(124);
}

class Watchdog : public testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo& info) override {
    std::string name = std::string(info.test_suite_name()) + "." + info.name();
    strncpy(g_current_test, name.c_str(), sizeof(g_current_test) - 1);
    alarm(static_cast<unsigned>(TimeoutSeconds()));
  }
  void OnTestEnd(const testing::TestInfo&) override { alarm(0); }
};

}  // namespace

int main(int argc, char** argv) {
  // A process group of our own, so that the watchdog's kill(0) takes down
  // this test and its children, never the ctest (and CI) that started it.
  (void)setpgid(0, 0);
  testing::InitGoogleTest(&argc, argv);
  signal(SIGALRM, OnAlarm);
  testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);
  return RUN_ALL_TESTS();
}
