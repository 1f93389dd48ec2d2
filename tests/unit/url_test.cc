#include "ipc/url.h"

#include <gtest/gtest.h>

namespace {

using ipc::ErrorCode;
using ipc::ParseUrl;

TEST(UrlTest, AcceptsEveryDocumentedForm) {
  auto pipe = ParseUrl("pipe:");
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(pipe->scheme, "pipe");
  EXPECT_TRUE(pipe->path.empty());

  auto inherited = ParseUrl("pipe:?rfd=3&wfd=4");
  ASSERT_TRUE(inherited.ok());
  EXPECT_EQ(inherited->Option("rfd").value_or(""), "3");
  EXPECT_EQ(inherited->Option("wfd").value_or(""), "4");
  EXPECT_FALSE(inherited->Option("fd").has_value());

  auto path = ParseUrl("unix:///run/app.sock?mode=0660");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->path, "/run/app.sock");
  EXPECT_EQ(path->Option("mode").value_or(""), "0660");

  auto abstract = ParseUrl("unix://@app");
  ASSERT_TRUE(abstract.ok());
  EXPECT_EQ(abstract->path, "@app");

  auto name = ParseUrl("shm://jobs?capacity=1M");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->path, "jobs");

  auto tcp = ParseUrl("tcp://127.0.0.1:8888");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, "8888");

  auto v6 = ParseUrl("tcp://[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "0");

  auto plus = ParseUrl("zmq+tcp://localhost:5555");
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->scheme, "zmq+tcp");
  EXPECT_EQ(plus->text, "zmq+tcp://localhost:5555");
}

TEST(UrlTest, RejectsMalformedUrlsNamingThem) {
  for (const char* bad : {"", "nocolon", ":x", "tcp:/x", "unix://", "unix://rel/path",
                          "tcp://[::1", "tcp://::1:80", "tcp://host:8x",
                          "unix:///a?mode=1&mode=2", "unix:///a?=1"}) {
    auto url = ParseUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(url.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << url.status();
  }
}

TEST(UrlTest, ByteSizesTakeBinarySuffixes) {
  EXPECT_EQ(ipc::ParseByteSize("0").value(), 0u);
  EXPECT_EQ(ipc::ParseByteSize("4096").value(), 4096u);
  EXPECT_EQ(ipc::ParseByteSize("64K").value(), 65536u);
  EXPECT_EQ(ipc::ParseByteSize("1M").value(), 1u << 20);
  EXPECT_EQ(ipc::ParseByteSize("2GiB").value(), 2ull << 30);
  for (const char* bad : {"", "K", "12Q", "-1", "1.5M", "99999999999999999999"}) {
    EXPECT_EQ(ipc::ParseByteSize(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ipc::ParseByteSize("18446744073709551615K").status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(UrlTest, FileModesAreOctalAndBounded) {
  EXPECT_EQ(ipc::ParseFileMode("0600").value(), 0600u);
  EXPECT_EQ(ipc::ParseFileMode("660").value(), 0660u);
  for (const char* bad : {"", "0800", "1777", "rw", "06 0"}) {
    EXPECT_EQ(ipc::ParseFileMode(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
