#include "net/json_read.hpp"

#include <vector>

namespace kintsugi::json_read {

namespace {

// A parser keeps its buffers between parses. Up to this many bytes of input they stay with the thread for the next
// parse; beyond it they go back to the allocator.
constexpr std::size_t kept_capacity = 256 * 1024;
constexpr std::size_t kept_parsers = 4;  // nested parses are rare; more than this are simply freed

std::vector<std::unique_ptr<simdjson::dom::parser>>& idle_parsers() {
  thread_local std::vector<std::unique_ptr<simdjson::dom::parser>> idle;
  return idle;
}

}  // namespace

parsed::parsed(std::string_view text) {
  auto& idle = idle_parsers();
  if (idle.empty()) {
    parser_ = std::make_unique<simdjson::dom::parser>();
  } else {
    parser_ = std::move(idle.back());
    idle.pop_back();
  }
  error_ = parser_->parse(text.data(), text.size()).get(root_);
}

parsed::~parsed() {
  auto& idle = idle_parsers();
  if (parser_->capacity() <= kept_capacity && idle.size() < kept_parsers) idle.push_back(std::move(parser_));
}

std::string_view parsed::error() const { return ok() ? std::string_view{} : simdjson::error_message(error_); }

element parsed::root() const { return ok() ? root_ : empty_object(); }

element empty_object() {
  // Parsed once and only read afterwards, so every thread may share it; never freed, as elements may outlive statics.
  static simdjson::dom::parser* const holder = new simdjson::dom::parser();
  static const element empty = holder->parse("{}", 2).value_unsafe();
  return empty;
}

std::optional<element> member(element j, std::string_view key) {
  simdjson::dom::object o;
  if (j.get(o) != simdjson::SUCCESS) return std::nullopt;
  std::optional<element> found;
  for (const auto field : o) {
    if (field.key == key) found = field.value;
  }
  return found;
}

element obj_of(const std::optional<element>& m) { return m && m->is_object() ? *m : empty_object(); }

std::optional<array> arr_of(const std::optional<element>& m) {
  array a;
  if (!m || m->get(a) != simdjson::SUCCESS) return std::nullopt;
  return a;
}

std::string_view as_str(element j) {
  std::string_view s;
  return j.get(s) == simdjson::SUCCESS ? s : std::string_view{};
}

std::string_view str_of(const std::optional<element>& m) { return m ? as_str(*m) : std::string_view{}; }

bool boolean_of(const std::optional<element>& m, bool fallback) {
  bool b = false;
  return m && m->get(b) == simdjson::SUCCESS ? b : fallback;
}

std::int64_t integer_of(const std::optional<element>& m, std::int64_t fallback) {
  if (!m) return fallback;
  std::int64_t i = 0;
  if (m->get(i) == simdjson::SUCCESS) return i;  // also an unsigned value that fits
  double d = 0;
  if (m->is_double() && m->get(d) == simdjson::SUCCESS) return d > -9.0e18 && d < 9.0e18 ? static_cast<std::int64_t>(d) : fallback;
  return fallback;
}

element obj(element j, std::string_view key) { return obj_of(member(j, key)); }

std::optional<array> arr(element j, std::string_view key) { return arr_of(member(j, key)); }

std::string_view str(element j, std::string_view key) { return str_of(member(j, key)); }

bool boolean(element j, std::string_view key, bool fallback) { return boolean_of(member(j, key), fallback); }

std::int64_t integer(element j, std::string_view key, std::int64_t fallback) {
  return integer_of(member(j, key), fallback);
}

std::string to_text(element j) { return simdjson::minify(j); }

}  // namespace kintsugi::json_read
