// Reading JSON without throwing (kintsugi::json_read): parse errors, lookups that tolerate any type, numbers,
// repeated keys, nested parses and big documents.
#include "net/json_read.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>

namespace jr = kintsugi::json_read;

TEST_CASE("json_read: text that is not JSON is an error and reads as an empty object") {
  for (const char* bad : {"", "{", "[1,2", "{\"a\":}", "nul", "{\"a\":1} x", "\"\\ud800\"", "{\"s\":\"\xff\"}"}) {
    CAPTURE(bad);
    const jr::parsed doc(bad);
    CHECK_FALSE(doc.ok());
    CHECK_FALSE(doc.error().empty());
    CHECK(doc.root().is_object());
    CHECK(jr::str(doc.root(), "a").empty());
  }
  const jr::parsed fine(R"({"a":"b"})");
  CHECK(fine.ok());
  CHECK(fine.error().empty());
}

TEST_CASE("json_read: lookups give a default for what is missing or of another type") {
  const jr::parsed doc(R"({"s":"text","n":42,"f":2.9,"t":true,"o":{"k":"v"},"a":[1,"x"],"z":null,"neg":-7})");
  REQUIRE(doc.ok());
  const auto j = doc.root();
  CHECK(jr::str(j, "s") == "text");
  CHECK(jr::str(j, "n").empty());
  CHECK(jr::str(j, "missing").empty());
  CHECK(jr::str(jr::obj(j, "o"), "k") == "v");
  CHECK(jr::str(jr::obj(jr::obj(j, "s"), "k"), "x").empty());  // obj of a string: an empty object
  CHECK(jr::obj(j, "a").is_object());
  CHECK(jr::arr(j, "a").has_value());
  CHECK_FALSE(jr::arr(j, "o").has_value());
  CHECK(jr::integer(j, "n") == 42);
  CHECK(jr::integer(j, "neg") == -7);
  CHECK(jr::integer(j, "f") == 2);  // a float is truncated
  CHECK(jr::integer(j, "s", -1) == -1);
  CHECK(jr::integer(j, "z", 5) == 5);
  CHECK(jr::boolean(j, "t"));
  CHECK(jr::boolean(j, "n", true));  // not a boolean: the fallback
  CHECK_FALSE(jr::boolean(j, "missing"));
  CHECK(jr::member(j, "z").has_value());
  CHECK_FALSE(jr::member(j, "nothing").has_value());
  CHECK_FALSE(jr::member(jr::obj(j, "o"), "s").has_value());
  // Member lookups on something that is not an object find nothing.
  const auto list = jr::member(j, "a");
  REQUIRE(list);
  CHECK_FALSE(jr::member(*list, "0").has_value());
  CHECK(jr::as_str(*list).empty());
}

TEST_CASE("json_read: numbers at the edges of 64 bits") {
  const jr::parsed doc(R"({"max":9223372036854775807,"big":18446744073709551615,"huge":1e300,"min":-9223372036854775808})");
  REQUIRE(doc.ok());
  CHECK(jr::integer(doc.root(), "max") == INT64_MAX);
  CHECK(jr::integer(doc.root(), "min") == INT64_MIN);
  CHECK(jr::integer(doc.root(), "big", -1) == -1);   // does not fit: the fallback
  CHECK(jr::integer(doc.root(), "huge", -1) == -1);  // neither does this
}

TEST_CASE("json_read: a repeated key reads as its last value") {
  const jr::parsed doc(R"({"k":"first","k":"last"})");
  CHECK(jr::str(doc.root(), "k") == "last");
}

TEST_CASE("json_read: fields finds several members in one pass, as member() finds each") {
  const jr::parsed doc(R"({"k":"first","n":7,"o":{"x":true},"a":[1,2],"k":"last","b":false,"f":2.9})");
  static constexpr std::array<std::string_view, 8> keys{"k", "n", "o", "a", "b", "f", "missing", "x"};
  const jr::fields<keys.size()> f(doc.root(), keys);
  CHECK(jr::str_of(f[0]) == "last");
  CHECK(jr::integer_of(f[1]) == 7);
  CHECK(jr::boolean(jr::obj_of(f[2]), "x"));
  REQUIRE(jr::arr_of(f[3]));
  CHECK(jr::arr_of(f[3])->size() == 2);
  CHECK(jr::boolean_of(f[4], true) == false);
  CHECK(jr::integer_of(f[5]) == 2);
  CHECK_FALSE(f[6]);
  CHECK_FALSE(f[7]);  // nested members are not the object's own
  // Every reading tolerates a member of another type, as the lookups by key do.
  CHECK(jr::str_of(f[1]).empty());
  CHECK(jr::integer_of(f[0], -1) == -1);
  CHECK_FALSE(jr::arr_of(f[2]));
  CHECK(jr::obj_of(f[6]).is_object());
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(f[i].has_value() == jr::member(doc.root(), keys[i]).has_value());
  // Not an object: nothing is found.
  const jr::parsed list("[1,2]");
  const jr::fields<keys.size()> none(list.root(), keys);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK_FALSE(none[i]);
}

TEST_CASE("json_read: documents parsed at the same time stay apart") {
  const jr::parsed outer(R"({"who":"outer"})");
  {
    const jr::parsed inner(R"({"who":"inner"})");
    CHECK(jr::str(inner.root(), "who") == "inner");
    CHECK(jr::str(outer.root(), "who") == "outer");
  }
  const jr::parsed next(R"({"who":"next"})");
  CHECK(jr::str(outer.root(), "who") == "outer");
  CHECK(jr::str(next.root(), "who") == "next");
}

TEST_CASE("json_read: a big document reads like a small one, and compact text round-trips") {
  std::string big = R"({"items":[)";
  for (int i = 0; i < 20000; ++i) {
    if (i > 0) big += ',';
    big += R"({"n":)";
    big += std::to_string(i);
    big += '}';
  }
  big += "]}";
  {
    const jr::parsed doc(big);
    REQUIRE(doc.ok());
    const auto items = jr::arr(doc.root(), "items");
    REQUIRE(items);
    CHECK(items->size() == 20000);
  }
  const jr::parsed small(R"({ "a" : [1, 2, {"b": "c d"}] })");
  CHECK(jr::to_text(small.root()) == R"({"a":[1,2,{"b":"c d"}]})");
}
