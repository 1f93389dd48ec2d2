// An exhaustive kill sweep: one operation on a shared object runs in a child
// under ptrace; the parent single-steps it exactly k instructions (a system
// call is one step), SIGKILLs it there, and checks the object's invariants;
// then again with a fresh object for k + 1, and so on until the operation
// runs to its end. So every instruction of the operation is a kill point.
//
//   class PutCase : public SweepCase { ... };   // Setup/Child/Stopped/Check
//   SweepSummary s = RunKillSweep(my_case);    // kill points, failures
//   EXPECT_TRUE(s.failures.empty()) << s.Report();
//
// A case's Child() runs in the traced child: it opens the object (not
// stepped), calls SweepBegin() right before the operation, runs it, and
// reports with page.op.Report(...) right after; Report's final store is what
// tells the parent that the operation finished. Helpers (a consumer asleep
// in Get, a party waiting at the barrier) are separate processes that the
// case starts in Stopped() and waits for in Check(), every wait bounded.
//
// Cost: the first run single-steps the whole operation (N instructions)
// and records each instruction's address; every later trial runs at full
// speed to a breakpoint on its kill point's instruction (at the right hit,
// for code run more than once), so a sweep costs N forks and a few traps
// each, not N^2/2 single steps (the fallback where breakpoints are not
// implemented: x86-64 only). Operations longer than
// SweepOptions::exhaustive_limit are swept with a stride; the summary says
// which points were covered.
#ifndef IPC_TESTS_SYNC_KILL_SWEEP_H_
#define IPC_TESTS_SYNC_KILL_SWEEP_H_

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/status.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IPC_KILL_SWEEP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IPC_KILL_SWEEP_SANITIZED 1
#endif
#endif
#ifndef IPC_KILL_SWEEP_SANITIZED
#define IPC_KILL_SWEEP_SANITIZED 0
#endif

namespace ipc::testing {

// What one process of a trial tells the parent, through shared memory.
struct Outcome {
  std::atomic<uint32_t> done;
  int32_t code;   // An ipc::ErrorCode.
  int64_t value;  // Whatever the case wants (an index, a count).
  uint32_t size;
  char text[8192];

  // Records the result; the last store publishes it.
  void Report(ErrorCode error, int64_t v = 0, std::string_view t = {});
  bool finished() const { return done.load(std::memory_order_acquire) != 0; }
  ErrorCode error() const { return static_cast<ErrorCode>(code); }
  std::string_view message() const { return std::string_view(text, size); }
};

// One shared page per sweep, zeroed before every trial.
struct SweepPage {
  Outcome op;          // The traced child, right after the operation.
  Outcome helpers[2];  // Helper processes (or threads) of the trial.
};

// The traced child's marker: the parent counts instructions from the next
// one. Inline, so that no call or return of ours is stepped.
[[gnu::always_inline]] inline void SweepBegin() {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("int3" ::: "memory");  // SIGTRAP, stops the tracee.
#else
  ::raise(SIGSTOP);  // Its tail (a few dozen instructions) is stepped too.
#endif
}

// How a helper ended up when the parent stopped waiting for it.
enum class HelperState {
  kExited,  // It finished; its Outcome says how.
  kAsleep,  // Blocked in a wait, and the case said that is legitimate.
  kStuck,   // Still there at the bound although it should have finished.
};

class Trial {
 public:
  Trial(int kill_point, SweepPage* page, int wake_bound_ms)
      : kill_point_(kill_point), page_(page), wake_bound_ms_(wake_bound_ms) {}
  ~Trial();
  Trial(const Trial&) = delete;
  Trial& operator=(const Trial&) = delete;

  // The number of instructions the child ran before it was killed; -1 for
  // the trial whose operation ran to its end.
  int kill_point() const { return kill_point_; }
  bool killed() const { return kill_point_ >= 0; }
  void set_kill_point(int k) { kill_point_ = k; }
  SweepPage& page() { return *page_; }
  // How long a process that should wake up may take to do so.
  int wake_bound_ms() const { return wake_bound_ms_; }

  // Records a broken invariant. what: a fixed description, by which the
  // summary groups kill points; detail: this trial's particulars.
  void Fail(const std::string& what, const std::string& detail = "");
  const std::vector<std::pair<std::string, std::string>>& failures() const {
    return failures_;
  }

  // Forks a helper that runs body and _exit()s with its result; it reports
  // through page().helpers[slot].
  void StartHelper(int slot, const std::function<int()>& body);
  pid_t helper_pid(int slot) const { return helpers_[slot]; }
  // Waits (5 s at most) until the task sleeps in futex(2) or poll(2): a
  // helper process (tid 0) or a thread of this process. Fail()s on timeout.
  bool WaitAsleep(pid_t pid, pid_t tid, const std::string& who);
  bool WaitHelperAsleep(int slot, const std::string& who) {
    return WaitAsleep(helpers_[slot], 0, who);
  }
  // Waits for helper slot to exit, at most wake_bound_ms(). may_sleep is
  // asked whenever the helper is found asleep: true means the object's
  // state lets it sleep on (nothing it waits for happened), so there is no
  // need to wait longer. A helper that is asleep or stuck stays running;
  // KillHelpers() ends it.
  HelperState WaitHelper(int slot, const std::function<bool()>& may_sleep);
  // SIGKILLs and reaps every helper still running.
  void KillHelpers();

 private:
  int kill_point_;
  SweepPage* page_;
  int wake_bound_ms_;
  pid_t helpers_[2] = {0, 0};
  std::vector<std::pair<std::string, std::string>> failures_;
};

// One case of the sweep. Every method but Child runs in the parent.
class SweepCase {
 public:
  virtual ~SweepCase() = default;
  // Makes fresh objects (unique names) for one trial.
  virtual void Setup(Trial& trial) = 0;
  // In the traced child: prepare, SweepBegin(), the operation, then
  // page.op.Report(...). Returns the child's exit code.
  virtual int Child(SweepPage& page) = 0;
  // The child waits at its marker: start the helpers that must already be
  // asleep when the operation starts.
  virtual void Stopped(Trial& /*trial*/) {}
  // The child is dead (killed) or has finished: check the invariants.
  virtual void Check(Trial& trial) = 0;
  // Removes the trial's objects. Helpers are killed after it.
  virtual void Teardown(Trial& /*trial*/) {}
};

struct SweepOptions {
  // Operations up to this many instructions are swept at every one. Under
  // ASan/TSan an operation runs several times the instructions and each
  // fork costs more, so longer ones are strided sooner there.
  int exhaustive_limit = IPC_KILL_SWEEP_SANITIZED ? 400 : 6000;
  // How long a process that must wake up may take (a woken process runs
  // within milliseconds; this only bounds a failing check).
  int wake_bound_ms = 1000;
  // The sweep stops (and fails) past this, to stay under the watchdog's
  // 60 s. IPC_KILL_SWEEP_BUDGET_S overrides it (with IPC_TEST_TIMEOUT_S).
  double budget_s = IPC_KILL_SWEEP_SANITIZED ? 200 : 45;
};

struct SweepSummary {
  int instructions = 0;  // N: steps the whole operation took.
  int kill_points = 0;   // Trials that killed the child.
  int stepped = 0;       // Points whose breakpoint run took another path.
  int missed = 0;        // Points that even single steps did not reach.
  int stride = 1;        // 1: every instruction; else see Report().
  int edge = 0;          // With a stride: points swept fully at each end.
  double seconds = 0;
  bool completed = true;  // False when the budget ran out.
  // what -> the kill points where it failed (-1: the finished run), with
  // the first trial's detail.
  std::map<std::string, std::vector<int>> failures;
  std::map<std::string, std::string> first_detail;

  std::string Report() const;
};

// Why ptrace single-stepping of a child cannot work here, or nullopt.
std::optional<std::string> PtraceUnavailable();

SweepSummary RunKillSweep(SweepCase& sweep_case, const SweepOptions& options = {});

// The body of a sweep TEST: skips when ptrace is unavailable, runs the
// sweep, prints its summary and fails with it if any invariant broke.
void ExpectCleanSweep(SweepCase& sweep_case, const SweepOptions& options = {});

// "Deadline" etc.: ErrorCodeName with the code.
std::string CodeName(ErrorCode code);

}  // namespace ipc::testing

#endif  // IPC_TESTS_SYNC_KILL_SWEEP_H_
