#include "ipc/status.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "ipc/deadline.h"
#include "ipc/result.h"

namespace {

using ipc::ErrorCode;
using ipc::Result;
using ipc::Status;

TEST(StatusTest, OkIsCheapAndPrintsOk) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), ErrorCode::kOk);
  EXPECT_EQ(ok.ToString(), "OK");
  EXPECT_TRUE(ok.message().empty());
}

TEST(StatusTest, ErrnoStatusNamesContextReasonAndCode) {
  Status s = ipc::ErrnoStatus("unix:///x: connect", ENOENT);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.sys_errno(), ENOENT);
  EXPECT_EQ(s.message(), "unix:///x: connect: No such file or directory");
  EXPECT_EQ(s.ToString(), "NotFound: unix:///x: connect: No such file or directory");
  EXPECT_EQ(ipc::ErrnoStatus("x", EPIPE).code(), ErrorCode::kClosed);
  EXPECT_EQ(ipc::ErrnoStatus("x", EACCES).code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ipc::ErrnoStatus("x", EADDRINUSE).code(), ErrorCode::kAddressInUse);
  EXPECT_EQ(ipc::ErrnoStatus("x", EAGAIN).code(), ErrorCode::kWouldBlock);
  EXPECT_EQ(ipc::ErrnoStatus("x", EMSGSIZE).code(), ErrorCode::kMessageTooLarge);
  EXPECT_EQ(ipc::ErrnoStatus("x", ENOSPC).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(ipc::ErrnoStatus("x", EIO).code(), ErrorCode::kInternal);
}

TEST(StatusTest, WithContextPrefixesAndKeepsCode) {
  Status s = Status(ErrorCode::kClosed, "peer closed", 0).WithContext("tcp://h:1");
  EXPECT_EQ(s.code(), ErrorCode::kClosed);
  EXPECT_EQ(s.message(), "tcp://h:1: peer closed");
  EXPECT_TRUE(Status().WithContext("x").ok());
  Status copy = s;
  EXPECT_EQ(copy.message(), s.message());
}

Result<int> Half(int x) {
  if (x % 2) return Status(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  IPC_ASSIGN_OR_RETURN(int half, Half(x));
  IPC_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(ResultTest, ValueOrErrorAndTheMacros) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Quarter(6).value_or(-1), -1);
  try {
    (void)Quarter(5).value();
    FAIL() << "value() on an error must throw";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_STREQ(e.what(), "InvalidArgument: odd");
  }
  // An OK status is not a value: it becomes an internal error, not success.
  Result<int> broken{Status()};
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), ErrorCode::kInternal);
}

TEST(DeadlineTest, KindsAndExpiry) {
  using namespace std::chrono_literals;
  EXPECT_TRUE(ipc::Deadline::Infinite().is_infinite());
  EXPECT_FALSE(ipc::Deadline::Infinite().Expired());
  EXPECT_EQ(ipc::Deadline::Infinite().PollTimeoutMs(), -1);
  EXPECT_TRUE(ipc::Deadline::Now().is_non_blocking());
  EXPECT_EQ(ipc::Deadline::Now().PollTimeoutMs(), 0);
  EXPECT_EQ(ipc::Deadline::Now().ExpiredStatus("x").code(), ErrorCode::kWouldBlock);
  ipc::Deadline soon = 30ms;
  EXPECT_FALSE(soon.Expired());
  EXPECT_GT(soon.PollTimeoutMs(), 0);
  EXPECT_LE(soon.PollTimeoutMs(), 30);
  EXPECT_EQ(soon.ExpiredStatus("x").code(), ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(ipc::Deadline(-5ms).is_non_blocking());
}

}  // namespace
