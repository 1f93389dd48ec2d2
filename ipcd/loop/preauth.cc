#include "loop/preauth.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace ipcd {

bool ParsePreAuthFrame(std::string_view bytes, PreAuthFrame* out) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  *out = PreAuthFrame();
  for (;;) {
    const uint32_t tag = in.ReadTag();
    // 0 is the end of the input, or a malformed tag.
    if (tag == 0) return in.ConsumedEntireMessage();
    const int field = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const auto wire = WireFormatLite::GetTagWireType(tag);
    if (field == 1 && wire == WireFormatLite::WIRETYPE_VARINT) {
      uint64_t id = 0;
      if (!in.ReadVarint64(&id)) return false;
      out->id = id;
    } else if ((field == 2 || field == 3) &&
               wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) ||
          !in.ReadString(&out->body, static_cast<int>(length))) {
        return false;
      }
      out->body_field = field;
    } else {
      // Some other body (or an unknown field): stop here, unparsed.
      out->body_field = field;
      out->body.clear();
      return true;
    }
  }
}

}  // namespace ipcd
