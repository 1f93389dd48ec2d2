// Fuzz target: the URL parser and the registry's option validation must
// accept or reject any text without crashing, and every rejection must be a
// kInvalidArgument-style error with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ipc/capabilities.h"
#include "ipc/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = ipc::ParseUrl(text);
  if (!url.ok()) {
    if (url.status().message().empty()) std::abort();
    return 0;
  }
  if (url->text != text) std::abort();
  (void)ipc::TransportCapabilities(text);
  for (const auto& [key, value] : url->query) {
    (void)ipc::ParseByteSize(value);
    (void)ipc::ParseFileMode(value);
  }
  return 0;
}
