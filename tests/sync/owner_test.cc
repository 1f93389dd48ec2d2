// Another user squatting a name: every named object in /dev/shm and every
// rendezvous (mq:// heartbeat socket and queue, fifo:// path) must refuse an
// owner or listener that is neither us nor root unless the caller's mode
// admits it (posix/peer_credentials.h). The squatter runs as uid 65534 and
// the victim is this (root) process, so the tests need root and skip
// otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
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

constexpr uid_t kSquatter = 65534;

bool BecomeSquatter() {
  return ::setresgid(kSquatter, kSquatter, kSquatter) == 0 &&
         ::setresuid(kSquatter, kSquatter, kSquatter) == 0;
}

// Runs create() as the squatter in a child; true if it made the object.
bool SquatAs(const std::function<bool()>& create) {
  const pid_t child = ForkChild([&] {
    if (!BecomeSquatter()) return 3;
    return create() ? 0 : 1;
  });
  return WaitChild(child) == 0;
}

class OwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a squatter as uid 65534";
  }
  void TearDown() override {
    // The named objects' own Unlink refuses a squatter's object; remove
    // them directly.
    for (const char* type : {"mutex", "sem", "event", "cond", "barrier", "queue", "mem"}) {
      ::shm_unlink(("/libipc." + std::string(type) + "." + name_).c_str());
    }
  }
  static void ExpectRefused(const ipc::Status& status, const char* kind) {
    EXPECT_EQ(status.code(), ErrorCode::kPermissionDenied) << kind << ": " << status;
    EXPECT_NE(status.message().find("uid 65534"), std::string::npos) << status;
  }
  const std::string name_ = UniqueName("own");
};

TEST_F(OwnerTest, OpenRefusesNamedObjectsOfAnotherUser) {
  const std::string& n = name_;
  ASSERT_TRUE(SquatAs([&] { return ipc::Mutex::Create(n, 0666).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::Semaphore::Create(n, 0, 0666).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::Event::Create(n, 0666).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::Condition::Create(n, 0666).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::Barrier::Create(n, 2, 0666).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::Queue::Create(n, {.mode = 0666}).ok(); }));
  ASSERT_TRUE(SquatAs([&] { return ipc::SharedMemory::Create(n, 64, 0666).ok(); }));

  ExpectRefused(ipc::Mutex::Open(n).status(), "Mutex::Open");
  ExpectRefused(ipc::Mutex::OpenOrCreate(n).status(), "Mutex::OpenOrCreate");
  ExpectRefused(ipc::Semaphore::Open(n).status(), "Semaphore::Open");
  ExpectRefused(ipc::Event::Open(n).status(), "Event::Open");
  ExpectRefused(ipc::Event::OpenOrCreate(n).status(), "Event::OpenOrCreate");
  ExpectRefused(ipc::Condition::Open(n).status(), "Condition::Open");
  ExpectRefused(ipc::Barrier::Open(n).status(), "Barrier::Open");
  ExpectRefused(ipc::Queue::Open(n).status(), "Queue::Open");
  ExpectRefused(ipc::Queue::OpenOrCreate(n).status(), "Queue::OpenOrCreate");
  ExpectRefused(ipc::SharedMemory::Open(n).status(), "SharedMemory::Open");
  ExpectRefused(ipc::SharedValue<long>::Open(n).status(), "SharedValue::Open");
  // Unlink goes through Open: a squatter's object is left for its owner
  // (or `ipcctl clean`) rather than trusted.
  ExpectRefused(ipc::Mutex::Unlink(n), "Mutex::Unlink");

  // A mode that admits other users admits this owner.
  auto shared = ipc::SharedMemory::Open(n, 0666);
  EXPECT_TRUE(shared.ok()) << shared.status();
  // Group bits admit it only when its gid is ours (it is 65534, ours 0).
  ExpectRefused(ipc::SharedMemory::Open(n, 0660).status(), "SharedMemory::Open 0660");
}

TEST_F(OwnerTest, SharedValueOfAnotherUserIsRefused) {
  const std::string& n = name_;
  ASSERT_TRUE(SquatAs([&] { return ipc::SharedValue<long>::Create(n, 7, {.mode = 0666}).ok(); }));
  ExpectRefused(ipc::SharedValue<long>::Open(n).status(), "SharedValue::Open");
  ExpectRefused(ipc::SharedArray<long>::Open(n).status(), "SharedArray::Open");
}

TEST_F(OwnerTest, OurOwnObjectsStillOpen) {
  auto m = ipc::Mutex::Create(name_);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(ipc::Mutex::Open(name_).ok());
  auto v = ipc::SharedValue<long>::Create(name_, 5);
  ASSERT_FALSE(v.ok()) << "its lock is the Mutex NAME, already made";
  (void)ipc::Mutex::Unlink(name_);
  v = ipc::SharedValue<long>::Create(name_, 5);
  ASSERT_TRUE(v.ok()) << v.status();
  auto opened = ipc::SharedValue<long>::Open(name_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->Load(), 5);
  EXPECT_TRUE(ipc::SharedValue<long>::Unlink(name_).ok());
}

// A squatter's live listener; the child exits 0 if it received a message
// (the traffic was stolen), 1 if not, 2 if it could not listen.
pid_t StartSquattingListener(const std::string& url, int ready_fd) {
  return ForkChild([&] {
    if (!BecomeSquatter()) return 3;
    auto listener = ipc::Listen(url);
    if (!listener.ok()) return 2;
    (void)!::write(ready_fd, "r", 1);
    auto channel = listener->Accept(3s);
    if (!channel.ok()) return 1;
    std::string message;
    return channel->Receive(&message, 3s).ok() ? 0 : 1;
  });
}

class RendezvousOwnerTest : public OwnerTest {
 protected:
  // Starts the squatter on listen_url, connects to connect_url, sends.
  // Returns the connect status; *stolen tells whether the squatter got it.
  ipc::Status ConnectToSquatter(const std::string& listen_url,
                                const std::string& connect_url, bool* stolen) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    const pid_t squatter = StartSquattingListener(listen_url, ready[1]);
    ::close(ready[1]);
    char c;
    const bool listening = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    ipc::Status status = ipc::Status(ErrorCode::kNotFound, "squatter did not listen");
    if (listening) {
      auto ch = ipc::Connect(connect_url, 2s);
      status = ch.status();
      if (ch.ok()) (void)ch->Send("secret", 2s);
    }
    *stolen = WaitChild(squatter) == 0;
    return status;
  }
};

TEST_F(RendezvousOwnerTest, MqSenderRefusesAnotherUsersListener) {
  const std::string url = "mq:///" + name_;
  bool stolen = false;
  ipc::Status status = ConnectToSquatter(url, url, &stolen);
  EXPECT_EQ(status.code(), ErrorCode::kPermissionDenied) << status;
  EXPECT_NE(status.message().find("uid 65534"), std::string::npos) << status;
  EXPECT_FALSE(stolen) << "the squatter received our message";
  ::mq_unlink(("/" + name_).c_str());
  // The sender's mode may admit other users, as a listener's does.
  status = ConnectToSquatter(url, url + "?mode=0606", &stolen);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(stolen);
  ::mq_unlink(("/" + name_).c_str());
}

TEST_F(RendezvousOwnerTest, FifoSenderRefusesAnotherUsersFifo) {
  ipc::testing::TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 01777), 0);
  const std::string url = "fifo://" + dir.File("f");
  bool stolen = false;
  ipc::Status status = ConnectToSquatter(url + "?mode=0622", url, &stolen);
  EXPECT_EQ(status.code(), ErrorCode::kPermissionDenied) << status;
  EXPECT_NE(status.message().find("uid 65534"), std::string::npos) << status;
  EXPECT_FALSE(stolen) << "the squatter received our message";
  status = ConnectToSquatter(url + "?mode=0622", url + "?mode=0602", &stolen);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(stolen);
}

}  // namespace
