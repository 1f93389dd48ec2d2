// ipc::Pipe across fork and exec, and adoption of inherited descriptors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc/channel.h"
#include "support/test_util.h"

#ifndef PIPE_EXEC_CHILD
#error "PIPE_EXEC_CHILD must name the helper binary"
#endif

namespace {

using namespace std::chrono_literals;
using ipc::ErrorCode;
using ipc::testing::ForkChild;
using ipc::testing::WaitChild;

TEST(PipeTest, BothEndsSurviveFork) {
  auto [parent, child_end] = ipc::Pipe().value();
  const pid_t child = ForkChild([&] {
    parent.Close();
    auto m = child_end.Receive(5s);
    return m.ok() && child_end.Send("got " + *m).ok() ? 0 : 1;
  });
  child_end.Close();
  ASSERT_TRUE(parent.Send("hi").ok());
  EXPECT_EQ(parent.Receive(5s).value_or(""), "got hi");
  EXPECT_EQ(WaitChild(child), 0);
  EXPECT_EQ(parent.Receive(5s).status().code(), ErrorCode::kClosed);
}

TEST(PipeTest, InheritUrlCarriesAnEndAcrossExec) {
  auto [parent, child_end] = ipc::Pipe().value();
  auto url = child_end.InheritUrl();
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->rfind("pipe:?fd=", 0), 0u) << *url;
  const pid_t child = fork();
  if (child == 0) {
    parent.Close();
    execl(PIPE_EXEC_CHILD, PIPE_EXEC_CHILD, url->c_str(), nullptr);
    _exit(127);
  }
  child_end.Close();
  ASSERT_TRUE(parent.Send("olleh").ok());
  EXPECT_EQ(parent.Receive(10s).value_or(""), "hello");
  EXPECT_EQ(WaitChild(child), 0);
}

TEST(PipeTest, OnlyPipeChannelsCanBeInherited) {
  auto listener = ipc::Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(listener.ok());
  auto ch = ipc::Connect(listener->url(), 5s);
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(ch->InheritUrl().status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(ipc::Channel().InheritUrl().status().code(), ErrorCode::kClosed);
}

TEST(PipeTest, AdoptsPlainPipeDescriptorsOneWayEach) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto reader = ipc::Connect("pipe:?rfd=" + std::to_string(fds[0]));
  auto writer = ipc::Connect("pipe:?wfd=" + std::to_string(fds[1]));
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(writer->Send("through a real pipe").ok());
  EXPECT_EQ(reader->Receive(5s).value_or(""), "through a real pipe");
  EXPECT_EQ(reader->Send("x").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(writer->Receive(1ms).status().code(), ErrorCode::kUnsupported);
  writer->Close();
  EXPECT_EQ(reader->Receive(5s).status().code(), ErrorCode::kClosed);
}

TEST(PipeTest, WritingToAPipeWithNoReaderIsClosedNotSigpipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  auto writer = ipc::Connect("pipe:?wfd=" + std::to_string(fds[1]));
  ASSERT_TRUE(writer.ok());
  // With SIGPIPE at its default action this would kill the test.
  EXPECT_EQ(writer->Send("nobody listens").code(), ErrorCode::kClosed);
}

TEST(PipeTest, BadDescriptorsAreNamed) {
  auto none = ipc::Connect("pipe:");
  EXPECT_EQ(none.status().code(), ErrorCode::kInvalidArgument);
  auto closed = ipc::Connect("pipe:?fd=987");
  EXPECT_EQ(closed.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(closed.status().message().find("987"), std::string::npos) << closed.status();
  EXPECT_EQ(ipc::Connect("pipe:?fd=x").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ipc::Connect("pipe:?fd=1&rfd=0").status().code(), ErrorCode::kInvalidArgument);
  auto listen = ipc::Listen("pipe:");
  EXPECT_EQ(listen.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(listen.status().message().find("ipc::Pipe()"), std::string::npos);
}

}  // namespace
