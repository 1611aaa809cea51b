#pragma once
// Reading the platforms' JSON fast and without ever throwing: a parse backed by simdjson's DOM (about twenty times
// quicker than building an nlohmann tree for a Socket Mode envelope, which is most of the work of capturing a
// message), and member lookups that tolerate any type. What kintsugi writes is still built with nlohmann
// (json_access.hpp).
//
// Values read here point into the parsed document: they are valid while the `parsed` that produced them lives.
// Decoders copy what they keep into plain values before they return.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kintsugi::json_read {

using element = simdjson::dom::element;
using array = simdjson::dom::array;

// One parse of one text. Parsers (and their buffers) are reused per thread; a parse that needed a big buffer gives
// it back to the allocator afterwards, so one large history page does not stay resident.
class parsed {
 public:
  explicit parsed(std::string_view text);
  ~parsed();
  parsed(const parsed&) = delete;
  parsed& operator=(const parsed&) = delete;

  bool ok() const { return error_ == simdjson::SUCCESS; }
  // Why the text is not JSON ("" when it is).
  std::string_view error() const;
  // The root value; an empty object when the text is not JSON.
  element root() const;

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
  element root_;
  simdjson::error_code error_ = simdjson::SUCCESS;
};

// An empty object, for chains like obj(obj(j, "a"), "b").
element empty_object();

// The member `key` of an object (the last one when the key is repeated, as nlohmann keeps it), or nullopt (also when
// `j` is not an object).
std::optional<element> member(element j, std::string_view key);

// The member when it is an object, else an empty object.
element obj(element j, std::string_view key);

// The member when it is an array, else nullopt.
std::optional<array> arr(element j, std::string_view key);

// The member when it is a string, else "". Points into the document.
std::string_view str(element j, std::string_view key);

// The value when it is a string, else "".
std::string_view as_str(element j);

// The member when it is true or false, else `fallback`.
bool boolean(element j, std::string_view key, bool fallback = false);

// An integer member: a float is truncated; out-of-range values and anything else give `fallback`.
std::int64_t integer(element j, std::string_view key, std::int64_t fallback = 0);

// The value as compact JSON text (for an object or array kept as text).
std::string to_text(element j);

// The same readings of a member already found (nullopt: absent).
element obj_of(const std::optional<element>& m);
std::optional<array> arr_of(const std::optional<element>& m);
std::string_view str_of(const std::optional<element>& m);
bool boolean_of(const std::optional<element>& m, bool fallback = false);
std::int64_t integer_of(const std::optional<element>& m, std::int64_t fallback = 0);

// Several members of one object found in a single pass over it, for an object read member by member on a hot path
// (every member() is a pass of its own). fields[i] is the member named keys[i]: the last one when the key is
// repeated, as member() finds it; all absent when `j` is not an object.
template <std::size_t N>
class fields {
 public:
  fields(element j, const std::array<std::string_view, N>& keys) {
    simdjson::dom::object o;
    if (j.get(o) != simdjson::SUCCESS) return;
    for (const auto field : o) {
      const auto named = std::find(keys.begin(), keys.end(), field.key);
      if (named != keys.end()) found_[static_cast<std::size_t>(named - keys.begin())] = field.value;
    }
  }
  const std::optional<element>& operator[](std::size_t i) const { return found_[i]; }

 private:
  std::array<std::optional<element>, N> found_{};
};

}  // namespace kintsugi::json_read
