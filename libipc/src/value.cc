#include "ipc/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace ipc {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void AppendBase64(std::string_view data, std::string* out) {
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n =
        (uint32_t{static_cast<unsigned char>(data[i])} << 16) |
        (uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
        uint32_t{static_cast<unsigned char>(data[i + 2])};
    out->push_back(kBase64Alphabet[(n >> 18) & 63]);
    out->push_back(kBase64Alphabet[(n >> 12) & 63]);
    out->push_back(kBase64Alphabet[(n >> 6) & 63]);
    out->push_back(kBase64Alphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest == 0) return;
  uint32_t n = uint32_t{static_cast<unsigned char>(data[i])} << 16;
  if (rest == 2) n |= uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
  out->push_back(kBase64Alphabet[(n >> 18) & 63]);
  out->push_back(kBase64Alphabet[(n >> 12) & 63]);
  out->push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
  out->push_back('=');
}

// JSON string escaping. Bytes of 0x80 and above pass through: strings are
// UTF-8 text, which JSON carries as is.
void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("\"nan\"");
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "\"inf\"" : "\"-inf\"");
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  const std::string_view text(buf, ec == std::errc() ? end - buf : 0);
  out->append(text);
  // Keep 2.0 looking like a double, as Python's json does: "2.0", not "2".
  if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

void AppendJson(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return;
    case Value::Kind::kBool:
      out->append(*v.if_bool() ? "true" : "false");
      return;
    case Value::Kind::kInt:
      out->append(std::to_string(*v.if_int()));
      return;
    case Value::Kind::kDouble:
      AppendDouble(*v.if_double(), out);
      return;
    case Value::Kind::kString:
      AppendJsonString(*v.if_string(), out);
      return;
    case Value::Kind::kBytes:
      out->append("{\"bytes\":\"");
      AppendBase64(*v.if_bytes(), out);
      out->append("\"}");
      return;
    case Value::Kind::kList: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : *v.if_list()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Kind::kMap: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : *v.if_map()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendJson(item, out);
      }
      out->push_back('}');
      return;
    }
  }
}

// True when word is an optional '-' and then digits only.
bool LooksWhole(std::string_view word) {
  if (!word.empty() && word[0] == '-') word.remove_prefix(1);
  if (word.empty()) return false;
  for (char c : word) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string Value::ToJson() const {
  std::string out;
  AppendJson(*this, &out);
  return out;
}

Value Value::ParseWord(std::string_view word) {
  if (word == "null") return Value();
  if (word == "true") return Value(true);
  if (word == "false") return Value(false);
  const char* first = word.data();
  const char* last = word.data() + word.size();
  if (LooksWhole(word)) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(first, last, n);
    // Too big for int64: kept as text rather than rounded to a double.
    if (ec == std::errc() && end == last) return Value(n);
    return Value(word);
  }
  // from_chars takes no leading '+', no hex and no surrounding spaces, which
  // keeps "0x10" and " 1" the strings they look like.
  if (!word.empty() &&
      word.find_first_of("0123456789") != std::string_view::npos) {
    double d = 0;
    const auto [end, ec] =
        std::from_chars(first, last, d, std::chars_format::general);
    if (ec == std::errc() && end == last && std::isfinite(d)) return Value(d);
  }
  return Value(word);
}

std::string_view KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kDouble:
      return "double";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kBytes:
      return "bytes";
    case Value::Kind::kList:
      return "list";
    case Value::Kind::kMap:
      return "map";
  }
  return "unknown";
}

namespace {

// "value is an int", "value is bytes", "value is null".
std::string_view KindArticle(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
    case Value::Kind::kBytes:
      return "";
    case Value::Kind::kInt:
      return "an ";
    default:
      return "a ";
  }
}

Status WrongKind(Value::Kind held, std::string_view wanted) {
  return Status(ErrorCode::kInvalidArgument,
                "value is " + std::string(KindArticle(held)) +
                    std::string(KindName(held)) + ", not " +
                    std::string(wanted));
}

}  // namespace

Result<int64_t> Value::AsInt() const {
  if (const int64_t* n = if_int()) return *n;
  return WrongKind(kind(), "an int");
}

Result<double> Value::AsDouble() const {
  if (const double* d = if_double()) return *d;
  if (const int64_t* n = if_int()) return static_cast<double>(*n);
  return WrongKind(kind(), "a double");
}

Result<bool> Value::AsBool() const {
  if (const bool* b = if_bool()) return *b;
  return WrongKind(kind(), "a bool");
}

Result<std::string> Value::AsString() const {
  if (const std::string* s = if_string()) return *s;
  return WrongKind(kind(), "a string");
}

}  // namespace ipc
