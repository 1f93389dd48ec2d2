#include "kill_sweep.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace ipc::testing {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  if (WIFSTOPPED(status)) return std::string("stopped by ") + strsignal(WSTOPSIG(status));
  return "status " + std::to_string(status);
}

// Blocked in a wait: state S inside futex(2) or poll(2). Where the syscall
// file cannot be read, the state alone decides.
bool IsAsleep(pid_t pid, pid_t tid) {
  const std::string dir =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid ? tid : pid) + "/";
  std::ifstream stat(dir + "stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'S') {
    return false;
  }
  std::ifstream syscall_file(dir + "syscall");
  long number = -1;
  if (!(syscall_file >> number)) return true;
  switch (number) {
    case SYS_futex:
    case SYS_ppoll:
#ifdef SYS_poll
    case SYS_poll:
#endif
      return true;
    default:
      return false;
  }
}

void Reap(pid_t pid) {
  int status;
  while (::waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
}

}  // namespace

void Outcome::Report(ErrorCode error, int64_t v, std::string_view t) {
  code = static_cast<int32_t>(error);
  value = v;
  size = static_cast<uint32_t>(std::min(t.size(), sizeof(text)));
  if (size != 0) std::memcpy(text, t.data(), size);
  done.store(1, std::memory_order_release);
}

std::string CodeName(ErrorCode code) { return std::string(ErrorCodeName(code)); }

Trial::~Trial() { KillHelpers(); }

void Trial::Fail(const std::string& what, const std::string& detail) {
  failures_.emplace_back(what, detail);
}

void Trial::StartHelper(int slot, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    int code = 1;
    try {
      code = body();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  helpers_[slot] = pid;
}

bool Trial::WaitAsleep(pid_t pid, pid_t tid, const std::string& who) {
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    if (IsAsleep(pid, tid)) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  Fail("setup: " + who + " did not fall asleep within 5 s");
  return false;
}

HelperState Trial::WaitHelper(int slot, const std::function<bool()>& may_sleep) {
  const pid_t pid = helpers_[slot];
  if (pid == 0) return HelperState::kExited;
  const auto until = Clock::now() + std::chrono::milliseconds(wake_bound_ms_);
  for (;;) {
    int status;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      helpers_[slot] = 0;
      return HelperState::kExited;
    }
    // The state first: once it lets the helper sleep (the child is dead, so
    // it cannot change on its own), a helper found asleep after it is
    // legitimately asleep. The other order races with a helper that wakes
    // up, takes what it waited for, and would be killed with it.
    if (may_sleep() && IsAsleep(pid, 0)) return HelperState::kAsleep;
    if (Clock::now() >= until) return HelperState::kStuck;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void Trial::KillHelpers() {
  for (pid_t& pid : helpers_) {
    if (pid == 0) continue;
    ::kill(pid, SIGKILL);
    Reap(pid);
    pid = 0;
  }
}

std::optional<std::string> PtraceUnavailable() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    const pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + strerror(errno);
    if (pid == 0) {
      if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(100 + errno % 100);
      ::raise(SIGSTOP);
      ::_exit(0);
    }
    int status;
    ::waitpid(pid, &status, __WALL);
    if (!WIFSTOPPED(status)) {
      return "PTRACE_TRACEME failed in the child (" + DescribeStatus(status) +
             ", errno " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) - 100 : 0) +
             ")";
    }
    std::optional<std::string> result;
    if (::ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0) {
      result = std::string("PTRACE_SINGLESTEP: ") + strerror(errno);
    } else {
      ::waitpid(pid, &status, __WALL);
      if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
        result = "single step did not trap (" + DescribeStatus(status) + ")";
      }
    }
    ::kill(pid, SIGKILL);
    Reap(pid);
    return result;
  }();
  return reason;
}

namespace {

struct TrialRun {
  int steps = 0;          // Instructions the child ran.
  bool finished = false;  // The operation reported its end.
};

int WaitStopped(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return status;
}

#if defined(__x86_64__)
constexpr bool kBreakpoints = true;
bool GetPc(pid_t pid, uint64_t* pc) {
  user_regs_struct regs;
  if (::ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) return false;
  *pc = regs.rip;
  return true;
}
bool SetPc(pid_t pid, uint64_t pc) {
  user_regs_struct regs;
  if (::ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) return false;
  regs.rip = pc;
  return ::ptrace(PTRACE_SETREGS, pid, nullptr, &regs) == 0;
}
#else
constexpr bool kBreakpoints = false;
bool GetPc(pid_t, uint64_t*) { return false; }
bool SetPc(pid_t, uint64_t) { return false; }
#endif

// Single-steps the stopped child k instructions (k < 0: until the
// operation reports its end), recording each instruction's address in
// *trace if given. false if the child ended.
bool StepTo(pid_t pid, int k, SweepPage* page, std::vector<uint64_t>* trace, TrialRun* run,
            Trial& trial) {
  int signal_to_pass = 0;
  while (!page->op.finished() && (k < 0 || run->steps < k)) {
    uint64_t pc;
    if (trace && GetPc(pid, &pc)) trace->push_back(pc);
    if (::ptrace(PTRACE_SINGLESTEP, pid, nullptr, signal_to_pass) != 0) {
      trial.Fail("PTRACE_SINGLESTEP failed", strerror(errno));
      return true;
    }
    signal_to_pass = 0;
    const int status = WaitStopped(pid);
    if (!WIFSTOPPED(status)) {
      trial.Fail("the child ended inside the operation",
                 DescribeStatus(status) + " after " + std::to_string(run->steps) + " steps");
      return false;
    }
    if (WSTOPSIG(status) != SIGTRAP) signal_to_pass = WSTOPSIG(status);
    ++run->steps;
  }
  return true;
}

enum class Reached { kThere, kEnded, kCannot };

// Runs the stopped child at full speed to kill point k of the recorded
// trace: a breakpoint on instruction trace[k], stopping at the hit that
// makes it the k-th instruction executed. The same state as k single steps
// at a fraction of the cost (N trials cost N, not N^2/2, steps). kEnded if
// the child exited instead (it took another path; the trial counts as
// finished), kCannot if the breakpoint cannot be set (then step).
Reached RunTo(pid_t pid, int k, const std::vector<uint64_t>& trace, TrialRun* run,
              Trial& trial) {
  const uint64_t at = trace[k];
  const long hits_wanted = std::count(trace.begin(), trace.begin() + k + 1, at);
  const auto addr = reinterpret_cast<void*>(at);
  errno = 0;
  const long original = ::ptrace(PTRACE_PEEKTEXT, pid, addr, nullptr);
  if (errno != 0) return Reached::kCannot;
  const long patched = (original & ~0xffL) | 0xcc;  // int3
  if (::ptrace(PTRACE_POKETEXT, pid, addr, reinterpret_cast<void*>(patched)) != 0) {
    return Reached::kCannot;
  }
  long hits = 0;
  int signal_to_pass = 0;
  for (;;) {
    ::ptrace(PTRACE_CONT, pid, nullptr, signal_to_pass);
    signal_to_pass = 0;
    int status = WaitStopped(pid);
    if (!WIFSTOPPED(status)) {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        trial.Fail("the child ended inside the operation", DescribeStatus(status));
      }
      return Reached::kEnded;
    }
    if (WSTOPSIG(status) != SIGTRAP) {
      signal_to_pass = WSTOPSIG(status);
      continue;
    }
    uint64_t pc = 0;
    if (!GetPc(pid, &pc) || pc != at + 1) {
      trial.Fail("the child trapped away from the breakpoint", std::to_string(pc));
      return Reached::kEnded;
    }
    ::ptrace(PTRACE_POKETEXT, pid, addr, reinterpret_cast<void*>(original));
    SetPc(pid, at);
    if (++hits == hits_wanted) {
      run->steps = k;
      return Reached::kThere;
    }
    ::ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr);  // Past it, then re-arm.
    status = WaitStopped(pid);
    if (!WIFSTOPPED(status)) return Reached::kEnded;
    ::ptrace(PTRACE_POKETEXT, pid, addr, reinterpret_cast<void*>(patched));
  }
}

// One trial: fresh objects, a traced child stopped at its marker, brought
// to kill point k (k < 0: to the end, recording *trace), SIGKILLed unless
// it finished by then, then the checks.
TrialRun RunTrial(SweepCase& c, SweepPage* page, int k, std::vector<uint64_t>* trace,
                  const SweepOptions& options, SweepSummary* summary) {
  std::memset(static_cast<void*>(page), 0, sizeof(*page));
  Trial trial(k, page, options.wake_bound_ms);
  TrialRun run;
  c.Setup(trial);
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(120);
    int code = 1;
    try {
      code = c.Child(*page);
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  int status = WaitStopped(pid);
  bool alive = WIFSTOPPED(status);
  bool exited_cleanly = false;
  if (!alive) {
    trial.Fail("the child did not reach its marker", DescribeStatus(status));
  } else {
    // A tracee outlives no tracer: if this process dies (the watchdog), the
    // child goes too.
    ::ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_EXITKILL);
    c.Stopped(trial);
    Reached reached = Reached::kCannot;
    if (k >= 0 && trace && k < static_cast<int>(trace->size())) {
      reached = RunTo(pid, k, *trace, &run, trial);
    }
    if (reached == Reached::kEnded) {
      alive = false;
      exited_cleanly = true;
    } else if (reached == Reached::kCannot) {
      alive = StepTo(pid, k, page, k < 0 ? trace : nullptr, &run, trial);
    }
    run.finished = page->op.finished();
  }
  if (alive && run.finished) {
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    const auto until = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (Clock::now() >= until) {
        ::kill(pid, SIGKILL);
        Reap(pid);
        status = 0;
        trial.Fail("the child did not exit after the operation");
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      trial.Fail("the child failed after the operation", DescribeStatus(status));
    }
  } else if (alive) {
    ::kill(pid, SIGKILL);
    Reap(pid);
  } else if (exited_cleanly && !run.finished) {
    trial.Fail("the child exited without finishing the operation");
  }
  trial.set_kill_point(run.finished ? -1 : run.steps);
  c.Check(trial);
  c.Teardown(trial);
  trial.KillHelpers();
  const int point = trial.kill_point();
  for (const auto& [what, detail] : trial.failures()) {
    auto& points = summary->failures[what];
    if (!points.empty() && points.back() == point) continue;  // Twice in one trial.
    if (points.empty()) {
      summary->first_detail[what] =
          (point < 0 ? std::string("finished run") : "kill point " + std::to_string(point)) +
          (detail.empty() ? "" : ": " + detail);
    }
    points.push_back(point);
  }
  return run;
}

// "3-7, 9, finished run" for a sorted list of kill points.
std::string Ranges(const std::vector<int>& points) {
  std::ostringstream out;
  bool first = true;
  for (size_t i = 0; i < points.size();) {
    size_t j = i;
    while (j + 1 < points.size() && points[j + 1] == points[j] + 1) ++j;
    if (!first) out << ", ";
    first = false;
    if (points[i] < 0) {
      out << "finished run";
    } else if (j > i) {
      out << points[i] << "-" << points[j];
    } else {
      out << points[i];
    }
    i = j + 1;
  }
  return out.str();
}

}  // namespace

std::string SweepSummary::Report() const {
  std::ostringstream out;
  out << "operation of " << instructions << " instructions, " << kill_points
      << " kill points";
  if (stride > 1) {
    out << " (every instruction in the first and last " << edge
        << ", every " << stride << "th between)";
  } else {
    out << " (every instruction)";
  }
  if (stepped > 0) {
    out << ", " << stepped << " reached by single steps after the breakpoint run took another path";
  }
  if (missed > 0) out << ", " << missed << " missed (finished before the point)";
  out << ", " << seconds << " s";
  if (!completed) out << "; STOPPED at the time budget";
  for (const auto& [what, points] : failures) {
    out << "\n  FAILED at " << points.size() << " point(s) [" << Ranges(points)
        << "]: " << what << "\n    first: " << first_detail.at(what);
  }
  return out.str();
}

SweepSummary RunKillSweep(SweepCase& sweep_case, const SweepOptions& options) {
  SweepSummary summary;
  const auto start = Clock::now();
  const char* budget_env = std::getenv("IPC_KILL_SWEEP_BUDGET_S");
  const double budget_s = budget_env ? std::atof(budget_env) : options.budget_s;
  void* mem = ::mmap(nullptr, sizeof(SweepPage), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) std::abort();
  auto* page = static_cast<SweepPage*>(mem);

  // Runs to the end, first: they count N and are checked like any trial.
  // The second count is the one used: the first child may run one-time
  // code (a function-local static, say) that the parent has since run too,
  // so that later children inherit it done.
  std::vector<uint64_t> trace;
  RunTrial(sweep_case, page, -1, &trace, options, &summary);
  trace.clear();
  const TrialRun full = RunTrial(sweep_case, page, -1, &trace, options, &summary);
  if (!kBreakpoints || static_cast<int>(trace.size()) != full.steps) trace.clear();
  const int n = full.steps;
  summary.instructions = n;
  if (!full.finished) {
    summary.seconds = SecondsSince(start);
    ::munmap(mem, sizeof(SweepPage));
    return summary;
  }

  // Kill points: all of 0..n-1, or, past the limit, every one near both
  // ends (where objects are opened and committed) and a stride between.
  std::vector<int> points;
  if (n <= options.exhaustive_limit) {
    for (int k = 0; k < n; ++k) points.push_back(k);
  } else {
    summary.edge = options.exhaustive_limit / 4;
    summary.stride = std::max(1, (n - 2 * summary.edge) / (options.exhaustive_limit / 2));
    for (int k = 0; k < n; ++k) {
      if (k < summary.edge || k >= n - summary.edge || k % summary.stride == 0) {
        points.push_back(k);
      }
    }
  }
  int missed_in_a_row = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    const int k = points[i];
    if (SecondsSince(start) > budget_s) {
      summary.completed = false;
      summary.failures["sweep stopped at its time budget"].push_back(k);
      summary.first_detail["sweep stopped at its time budget"] =
          "kill point " + std::to_string(k) + " of " + std::to_string(n);
      break;
    }
    // A trial that finished before k steps was checked as a finished run;
    // every later k would finish too.
    bool finished =
        RunTrial(sweep_case, page, k, trace.empty() ? nullptr : &trace, options, &summary)
            .finished;
    if (finished && !trace.empty()) {
      // It took another path (helpers run concurrently, and at full speed
      // their timing differs) and missed its breakpoint: k single steps.
      ++summary.stepped;
      finished = RunTrial(sweep_case, page, k, nullptr, options, &summary).finished;
      if (finished) {
        ++summary.missed;
        // Two in a row: the operation ends before these points on the path
        // the trials now take (the recorded run was longer), so every later
        // point would be missed too, each at the cost of a run of single
        // steps.
        if (++missed_in_a_row == 2) {
          summary.missed += static_cast<int>(points.size() - i - 1);
          break;
        }
        continue;
      }
    }
    missed_in_a_row = 0;
    if (finished) break;  // Every later point would finish too.
    ++summary.kill_points;
  }
  summary.seconds = SecondsSince(start);
  ::munmap(mem, sizeof(SweepPage));
  return summary;
}

void ExpectCleanSweep(SweepCase& sweep_case, const SweepOptions& options) {
  if (auto reason = PtraceUnavailable()) GTEST_SKIP() << "ptrace unavailable: " << *reason;
  const SweepSummary summary = RunKillSweep(sweep_case, options);
  std::printf("[  SWEEP   ] %s\n", summary.Report().c_str());
  std::fflush(stdout);
  EXPECT_TRUE(summary.failures.empty()) << summary.Report();
}

}  // namespace ipc::testing
