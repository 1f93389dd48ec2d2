// ipc::Value: JSON text, ipcctl's word parsing, kinds and equality.
#include "ipc/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ipc {
namespace {

TEST(ValueTest, DefaultIsNull) {
  Value v;
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(v.kind(), Value::Kind::kNull);
  EXPECT_EQ(Value(nullptr), v);
}

TEST(ValueTest, ConstructorsPickTheKind) {
  EXPECT_EQ(Value(true).kind(), Value::Kind::kBool);
  EXPECT_EQ(Value(42).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(int64_t{-7}).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(uint16_t{7}).kind(), Value::Kind::kInt);
  EXPECT_EQ(Value(1.5).kind(), Value::Kind::kDouble);
  EXPECT_EQ(Value("text").kind(), Value::Kind::kString);
  EXPECT_EQ(Value(std::string("text")).kind(), Value::Kind::kString);
  EXPECT_EQ(Value(std::string_view("text")).kind(), Value::Kind::kString);
  EXPECT_EQ(Value::FromBytes("\x01\x02").kind(), Value::Kind::kBytes);
  EXPECT_EQ(Value(Value::List{1, 2}).kind(), Value::Kind::kList);
  EXPECT_EQ(Value(Value::Map{{"a", 1}}).kind(), Value::Kind::kMap);
}

TEST(ValueTest, AccessorsGiveTheHeldValueOnlyForItsKind) {
  Value n = 42;
  ASSERT_NE(n.if_int(), nullptr);
  EXPECT_EQ(*n.if_int(), 42);
  EXPECT_EQ(n.if_double(), nullptr);
  EXPECT_EQ(n.if_string(), nullptr);
  Value b = Value::FromBytes("raw");
  ASSERT_NE(b.if_bytes(), nullptr);
  EXPECT_EQ(*b.if_bytes(), "raw");
  EXPECT_EQ(b.if_string(), nullptr);
}

TEST(ValueTest, EqualityComparesKindAndValue) {
  EXPECT_EQ(Value(1), Value(1));
  EXPECT_NE(Value(1), Value(2));
  EXPECT_NE(Value(1), Value(1.0));                 // int and double differ.
  EXPECT_NE(Value("ab"), Value::FromBytes("ab"));  // str and bytes differ.
  EXPECT_NE(Value(false), Value());
  EXPECT_EQ(Value(Value::Map{{"a", Value::List{1, "x"}}}),
            Value(Value::Map{{"a", Value::List{1, "x"}}}));
  EXPECT_NE(Value(Value::Map{{"a", 1}}), Value(Value::Map{{"a", 2}}));
}

TEST(ValueTest, ToJsonScalars) {
  EXPECT_EQ(Value().ToJson(), "null");
  EXPECT_EQ(Value(true).ToJson(), "true");
  EXPECT_EQ(Value(false).ToJson(), "false");
  EXPECT_EQ(Value(42).ToJson(), "42");
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()).ToJson(),
            "-9223372036854775808");
  EXPECT_EQ(Value(1.5).ToJson(), "1.5");
  EXPECT_EQ(Value(2.0).ToJson(), "2.0");  // Still reads as a double.
  EXPECT_EQ(Value(1e300).ToJson(), "1e+300");
  EXPECT_EQ(Value("text").ToJson(), "\"text\"");
}

TEST(ValueTest, ToJsonNonFiniteDoublesBecomeStrings) {
  EXPECT_EQ(Value(std::nan("")).ToJson(), "\"nan\"");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()).ToJson(), "\"inf\"");
  EXPECT_EQ(Value(-std::numeric_limits<double>::infinity()).ToJson(),
            "\"-inf\"");
}

TEST(ValueTest, ToJsonEscapesStrings) {
  EXPECT_EQ(Value("a\"b\\c").ToJson(), R"("a\"b\\c")");
  EXPECT_EQ(Value("line\nnext\ttab").ToJson(), R"("line\nnext\ttab")");
  EXPECT_EQ(Value(std::string("\x01", 1)).ToJson(), R"("\u0001")");
  EXPECT_EQ(Value("caf\xc3\xa9").ToJson(), "\"caf\xc3\xa9\"");  // UTF-8 as is.
}

TEST(ValueTest, ToJsonBytesAreBase64) {
  EXPECT_EQ(Value::FromBytes("").ToJson(), R"({"bytes":""})");
  EXPECT_EQ(Value::FromBytes("f").ToJson(), R"({"bytes":"Zg=="})");
  EXPECT_EQ(Value::FromBytes("fo").ToJson(), R"({"bytes":"Zm8="})");
  EXPECT_EQ(Value::FromBytes("foo").ToJson(), R"({"bytes":"Zm9v"})");
  EXPECT_EQ(Value::FromBytes(std::string("\xff\x00\x80", 3)).ToJson(),
            R"({"bytes":"/wCA"})");
}

TEST(ValueTest, ToJsonContainers) {
  EXPECT_EQ(Value(Value::List{}).ToJson(), "[]");
  EXPECT_EQ(Value(Value::Map{}).ToJson(), "{}");
  EXPECT_EQ(Value(Value::List{1, "two", nullptr, Value::List{3.5}}).ToJson(),
            R"([1,"two",null,[3.5]])");
  // Maps come out in key order.
  EXPECT_EQ(Value(Value::Map{{"port", 8080}, {"host", "db"}}).ToJson(),
            R"({"host":"db","port":8080})");
}

TEST(ValueTest, ParseWordKeywords) {
  EXPECT_EQ(Value::ParseWord("null"), Value());
  EXPECT_EQ(Value::ParseWord("true"), Value(true));
  EXPECT_EQ(Value::ParseWord("false"), Value(false));
  EXPECT_EQ(Value::ParseWord("True"), Value("True"));  // Exact spelling only.
}

TEST(ValueTest, ParseWordIntegers) {
  EXPECT_EQ(Value::ParseWord("0"), Value(0));
  EXPECT_EQ(Value::ParseWord("42"), Value(42));
  EXPECT_EQ(Value::ParseWord("-17"), Value(-17));
  EXPECT_EQ(Value::ParseWord("9223372036854775807"),
            Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Value::ParseWord("-9223372036854775808"),
            Value(std::numeric_limits<int64_t>::min()));
}

TEST(ValueTest, ParseWordIntegerOutOfRangeStaysText) {
  EXPECT_EQ(Value::ParseWord("9223372036854775808"),
            Value("9223372036854775808"));
  EXPECT_EQ(Value::ParseWord("-99999999999999999999"),
            Value("-99999999999999999999"));
}

TEST(ValueTest, ParseWordDecimals) {
  EXPECT_EQ(Value::ParseWord("1.5"), Value(1.5));
  EXPECT_EQ(Value::ParseWord("-0.25"), Value(-0.25));
  EXPECT_EQ(Value::ParseWord("1e3"), Value(1000.0));
  EXPECT_EQ(Value::ParseWord("2.0"), Value(2.0));
}

TEST(ValueTest, ParseWordNonNumbersStayText) {
  for (const char* word :
       {"", "abc", "nan", "inf", "-inf", "infinity", "1e400", "0x10", "+5",
        " 1", "1 ", "12abc", "1.2.3", "-", "."}) {
    EXPECT_EQ(Value::ParseWord(word), Value(word)) << "word: '" << word << "'";
  }
}

TEST(ValueTest, KindNames) {
  EXPECT_EQ(KindName(Value::Kind::kNull), "null");
  EXPECT_EQ(KindName(Value::Kind::kBool), "bool");
  EXPECT_EQ(KindName(Value::Kind::kInt), "int");
  EXPECT_EQ(KindName(Value::Kind::kDouble), "double");
  EXPECT_EQ(KindName(Value::Kind::kString), "string");
  EXPECT_EQ(KindName(Value::Kind::kBytes), "bytes");
  EXPECT_EQ(KindName(Value::Kind::kList), "list");
  EXPECT_EQ(KindName(Value::Kind::kMap), "map");
}

TEST(ValueTest, AsGivesTheHeldValueOrNamesTheKind) {
  EXPECT_EQ(Value(42).AsInt().value_or(0), 42);
  EXPECT_EQ(Value(true).AsBool().value_or(false), true);
  EXPECT_EQ(Value("x").AsString().value_or(""), "x");
  EXPECT_EQ(Value(2.5).AsDouble().value_or(0), 2.5);
  EXPECT_EQ(Value(3).AsDouble().value_or(0), 3.0);  // An int is a number.

  const Result<int64_t> not_int = Value("7").AsInt();
  ASSERT_FALSE(not_int.ok());
  EXPECT_EQ(not_int.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(not_int.status().message(), "value is a string, not an int");
  EXPECT_EQ(Value().AsBool().status().message(), "value is null, not a bool");
  EXPECT_EQ(Value::FromBytes("b").AsString().status().message(),
            "value is bytes, not a string");
  EXPECT_EQ(Value(1.5).AsInt().status().message(),
            "value is a double, not an int");  // No silent truncation.
  EXPECT_EQ(Value(1).AsBool().status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipc
