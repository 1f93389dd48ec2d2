#include "ipc/message.h"

#include <gtest/gtest.h>

#include "test_message.pb.h"

namespace {

using namespace std::chrono_literals;

TEST(MessageTest, ProtobufRoundTripAndGarbageIsNamed) {
  auto [a, b] = ipc::Pipe().value();
  ipc::test::Greeting hello;
  hello.set_text("hello");
  hello.set_number(-42);
  hello.add_blobs(std::string("\0\1\2", 3));
  ASSERT_TRUE(ipc::SendMessage(a, hello).ok());
  auto got = ipc::ReceiveMessage<ipc::test::Greeting>(b, 5s);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->text(), "hello");
  EXPECT_EQ(got->number(), -42);
  ASSERT_EQ(got->blobs_size(), 1);
  EXPECT_EQ(got->blobs(0), std::string("\0\1\2", 3));

  // Bytes that are not a Greeting: a clear error naming the type, and the
  // channel goes on.
  ASSERT_TRUE(a.Send("\xff\xff\xff").ok());
  auto bad = ipc::ReceiveMessage<ipc::test::Greeting>(b, 5s);
  EXPECT_EQ(bad.status().code(), ipc::ErrorCode::kProtocolError);
  EXPECT_NE(bad.status().message().find("ipc.test.Greeting"), std::string::npos)
      << bad.status();
  ASSERT_TRUE(ipc::SendMessage(a, hello).ok());
  EXPECT_TRUE(ipc::ReceiveMessage<ipc::test::Greeting>(b, 5s).ok());
  EXPECT_EQ(ipc::ReceiveMessage<ipc::test::Greeting>(b, 10ms).status().code(),
            ipc::ErrorCode::kDeadlineExceeded);
}

}  // namespace
