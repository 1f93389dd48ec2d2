// Placeholder until the daemon lands: proves the generated protocol builds.
#include "proto/ipcd.pb.h"

int main() {
  ipcd::v1::Request request;
  return request.id() == 0 ? 0 : 1;
}
