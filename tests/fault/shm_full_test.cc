// /dev/shm full: every shared-memory object reserves its pages when it is
// created (posix_fallocate), so a full /dev/shm is kResourceExhausted from
// Create, naming the object and ENOSPC, never a SIGBUS on first touch.
//
// Each case runs in a child with its own mount namespace (unshare -m) and a
// 64 KiB tmpfs on /dev/shm, so the host's /dev/shm is never filled; the
// test is skipped, saying why, where unshare or mount is not permitted.
// The child dying by any signal fails the test.
//
// shm:// channels are memfds, outside /dev/shm; what limits them is memory.
// A memory cgroup could OOM-kill the test instead of failing fallocate, and
// RLIMIT_AS does not cover fallocate at all, so the limit used here is
// RLIMIT_FSIZE, which fallocate on a memfd honours (EFBIG): it checks the
// same guarantee — a refused reservation is a clear error at Connect.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "ipc/barrier.h"
#include "ipc/channel.h"
#include "ipc/condition.h"
#include "ipc/event.h"
#include "ipc/mutex.h"
#include "ipc/queue.h"
#include "ipc/semaphore.h"
#include "ipc/shared_memory.h"
#include "ipc/shared_value.h"
#include "support/test_util.h"

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::UniqueName;
using ipc::testing::WaitChild;

constexpr int kNotPermitted = 77;

// In the child: a private 64 KiB tmpfs on /dev/shm. False if not permitted.
bool MountSmallDevShm() {
  if (::unshare(CLONE_NEWNS) != 0) {
    std::fprintf(stderr, "unshare(CLONE_NEWNS): %s\n", std::strerror(errno));
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
              "size=64k,mode=1777") != 0) {
    std::fprintf(stderr, "mount: %s\n", std::strerror(errno));
    return false;
  }
  return true;
}

// Fills /dev/shm up; the filler stays until the caller unlinks it.
bool FillDevShm(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  char page[4096];
  std::memset(page, 'x', sizeof page);
  while (::write(fd, page, sizeof page) > 0) {
  }
  const bool full = errno == ENOSPC;
  ::close(fd);
  return full;
}

// True if status is the clear error: kResourceExhausted, ENOSPC, naming
// the object. Prints what it got otherwise.
bool IsNoSpace(const ipc::Status& status, const std::string& name,
               const char* kind) {
  if (status.code() == ErrorCode::kResourceExhausted &&
      status.sys_errno() == ENOSPC &&
      status.message().find(name) != std::string::npos) {
    return true;
  }
  std::fprintf(
      stderr,
      "%s: want ResourceExhausted/ENOSPC naming '%s', got: %s (errno %d)\n",
      kind, name.c_str(), status.ToString().c_str(), status.sys_errno());
  return false;
}

class ShmFullTest : public ::testing::Test {
 protected:
  // Runs body in a child with a small private /dev/shm; the child's exit
  // code is the number of failed checks.
  void InSmallDevShm(const std::function<int()>& body) {
    const pid_t child =
        ForkChild([&] { return MountSmallDevShm() ? body() : kNotPermitted; });
    const int rc = WaitChild(child);
    if (rc == kNotPermitted) {
      GTEST_SKIP() << "cannot mount a private tmpfs on /dev/shm here (needs "
                      "unshare(CLONE_NEWNS) and mount, e.g. root); see the "
                      "child's stderr";
    }
    EXPECT_LT(rc, 128) << "the child died by signal " << rc - 128
                       << " (SIGBUS is " << SIGBUS << ")";
    EXPECT_EQ(rc, 0) << "checks failed; see the child's stderr";
  }
  const std::string name_ = UniqueName("full");
};

// Objects larger than the whole tmpfs.
TEST_F(ShmFullTest, LargeObjectsAreRefusedAtCreate) {
  const std::string n = name_;
  InSmallDevShm([n] {
    int failed = 0;
    failed += !IsNoSpace(ipc::SharedMemory::Create(n, 1 << 20).status(), n,
                         "SharedMemory");
    failed += !IsNoSpace(
        ipc::Queue::Create(n, {.maxsize = 100000, .max_item = 4096}).status(),
        n, "Queue");
    failed +=
        !IsNoSpace(ipc::SharedArray<char>::Create(n, 1 << 20, 'a').status(), n,
                   "SharedArray");
    struct Big {
      char bytes[1 << 20];
    };
    failed += !IsNoSpace(ipc::SharedValue<Big>::Create(n, Big{}).status(), n,
                         "SharedValue");
    // Nothing was left behind, so a small object still fits.
    auto small = ipc::SharedMemory::Create(n, 4096);
    if (!small.ok()) {
      std::fprintf(stderr, "small SharedMemory after the refusals: %s\n",
                   small.status().ToString().c_str());
      ++failed;
    } else {
      std::memset(small->data(), 1, small->size());
    }
    return failed;
  });
}

// With /dev/shm full, even the smallest object is refused at Create; once
// there is room again the same names work.
TEST_F(ShmFullTest,
       EveryObjectIsRefusedWhenDevShmIsFullAndWorksOnceThereIsRoom) {
  const std::string n = name_;
  InSmallDevShm([n] {
    const std::string filler = "/dev/shm/filler";
    if (!FillDevShm(filler)) {
      std::perror("filling /dev/shm");
      return 100;
    }
    int failed = 0;
    failed += !IsNoSpace(ipc::Mutex::Create(n).status(), n, "Mutex");
    failed += !IsNoSpace(ipc::RecursiveMutex::Create(n).status(), n,
                         "RecursiveMutex");
    failed += !IsNoSpace(ipc::Mutex::OpenOrCreate(n).status(), n,
                         "Mutex::OpenOrCreate");
    failed += !IsNoSpace(ipc::Semaphore::Create(n, 1).status(), n, "Semaphore");
    failed += !IsNoSpace(ipc::BoundedSemaphore::Create(n, 1).status(), n,
                         "BoundedSemaphore");
    failed += !IsNoSpace(ipc::Event::Create(n).status(), n, "Event");
    failed += !IsNoSpace(ipc::Condition::Create(n).status(), n, "Condition");
    failed += !IsNoSpace(ipc::Barrier::Create(n, 2).status(), n, "Barrier");
    failed += !IsNoSpace(
        ipc::Queue::Create(n, {.maxsize = 1, .max_item = 1}).status(), n,
        "Queue");
    failed +=
        !IsNoSpace(ipc::SharedMemory::Create(n, 1).status(), n, "SharedMemory");
    failed += !IsNoSpace(ipc::SharedValue<int>::Create(n, 1).status(), n,
                         "SharedValue");
    failed += !IsNoSpace(ipc::SharedArray<int>::Create(n, 4, 0).status(), n,
                         "SharedArray");

    // Room again: nothing half-made blocks the names.
    ::unlink(filler.c_str());
    auto check = [&](const ipc::Status& s, const char* kind) {
      if (s.ok()) return;
      std::fprintf(stderr, "%s after freeing /dev/shm: %s\n", kind,
                   s.ToString().c_str());
      ++failed;
    };
    auto mutex = ipc::Mutex::Create(n);
    check(mutex.status(), "Mutex");
    if (mutex.ok()) check(mutex->Lock().status(), "Mutex::Lock");
    auto sem = ipc::Semaphore::Create(n, 1);
    check(sem.status(), "Semaphore");
    if (sem.ok()) check(sem->Acquire(1s), "Semaphore::Acquire");
    check(ipc::Event::Create(n).status(), "Event");
    check(ipc::Condition::Create(n).status(), "Condition");
    check(ipc::Barrier::Create(n, 2).status(), "Barrier");
    auto queue = ipc::Queue::Create(n, {.maxsize = 4, .max_item = 64});
    check(queue.status(), "Queue");
    if (queue.ok()) check(queue->Put("x", 1s), "Queue::Put");
    auto mem = ipc::SharedMemory::Create(n, 8192);
    check(mem.status(), "SharedMemory");
    if (mem.ok()) std::memset(mem->data(), 1, mem->size());
    return failed;
  });
}

// A segment bigger than the process may have: Connect says so, naming the
// URL, and the process lives on (the ring is never touched unreserved).
TEST_F(ShmFullTest, ShmChannelWhoseSegmentCannotBeReservedFailsAtConnect) {
  const std::string url = "shm://" + name_ + "?capacity=1M";
  const pid_t child = ForkChild([&] {
    const std::string n2 = name_ + "b";
    auto listener = ipc::Listen(url);
    auto listener2 = ipc::Listen("shm://" + n2);
    if (!listener.ok() || !listener2.ok()) return 100;
    // fallocate past RLIMIT_FSIZE is EFBIG (plus SIGXFSZ, ignored here).
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit small{256 * 1024, 256 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &small) != 0) return 101;
    auto ch = ipc::Connect(url, 2s);
    if (ch.ok()) {
      std::fprintf(stderr, "Connect succeeded beyond RLIMIT_FSIZE\n");
      return 1;
    }
    const ipc::Status& s = ch.status();
    const bool clear = s.code() == ErrorCode::kResourceExhausted &&
                       s.message().find(url) != std::string::npos;
    if (!clear)
      std::fprintf(stderr, "want ResourceExhausted naming %s, got: %s\n",
                   url.c_str(), s.ToString().c_str());
    // A channel that fits still works in the same process.
    auto ok = ipc::Connect("shm://" + n2 + "?capacity=16K", 2s);
    if (!ok.ok() || !ok->Send("fits").ok()) {
      std::fprintf(stderr, "a small shm:// channel: %s\n",
                   ok.status().ToString().c_str());
      return 3;
    }
    return clear ? 0 : 2;
  });
  const int rc = WaitChild(child);
  EXPECT_LT(rc, 128) << "the child died by signal " << rc - 128;
  EXPECT_EQ(rc, 0) << "see the child's stderr";
}

}  // namespace
