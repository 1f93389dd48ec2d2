// Seed inputs for both fuzz targets when run by fuzz_driver.cc.
#include <string>
#include <vector>

using namespace std::string_literals;

extern const std::vector<std::string> kFuzzSeeds = {
    "unix:///tmp/a.sock",
    "unix://@abstract?max_message=1M",
    "tcp://127.0.0.1:0?max_message=64K",
    "tcp://[::1]:8888",
    "udp://localhost:9",
    "fifo:///tmp/f?mode=0600",
    "pipe:?rfd=3&wfd=4",
    "shm://jobs?capacity=1M",
    "x:?a=&b=1&&",
    // Framed streams: length prefix then payload, and broken ones.
    "\x03\x00\x00\x00" "abc" "\x00\x00\x00\x00"s,
    "\xff\xff\xff\xff" "zzzz"s,
    "\x00\x10\x00\x00" "short"s,
    "\x02\x00"s,
};
