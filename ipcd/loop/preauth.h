// The only parsing done before a connection is authenticated: reads a
// Request frame's id and, if its body is a Hello or an Authenticate, that
// body's bytes. Any other body is reported by field number and left
// unparsed, so nothing but Hello and Authenticate is ever decoded from an
// unauthenticated peer.
//
// Thread safety: a pure function.
#ifndef IPCD_LOOP_PREAUTH_H_
#define IPCD_LOOP_PREAUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ipcd {

struct PreAuthFrame {
  uint64_t id = 0;
  // Request field number of the body: 2 = hello, 3 = authenticate, another
  // number for anything else, 0 when there is no body.
  int body_field = 0;
  std::string body;  // The Hello or Authenticate bytes.
};

// Largest frame accepted before authentication; a Hello or Authenticate is
// far smaller.
inline constexpr size_t kMaxPreAuthFrame = 4096;

// The answer to a request with id 0, which marks answers to frames that
// could not be parsed.
inline constexpr char kIdZero[] =
    "request id 0 is reserved (it marks answers to frames that could not be "
    "parsed); the request was not run";

// False when bytes are not a well-formed Request prefix.
bool ParsePreAuthFrame(std::string_view bytes, PreAuthFrame* out);

}  // namespace ipcd

#endif  // IPCD_LOOP_PREAUTH_H_
