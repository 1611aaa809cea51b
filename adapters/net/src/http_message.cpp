#include <net/http_message.hpp>

#include <array>
#include <charconv>
#include <ctime>

namespace kintsugi::net {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool to_int(std::string_view s, long long& out) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// "Wed, 21 Oct 2026 07:28:00 GMT" (IMF-fixdate, the only form RFC 9110 asks senders to use).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT") return std::nullopt;
  long long day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!to_int(s.substr(5, 2), day) || !to_int(s.substr(12, 4), year) || !to_int(s.substr(17, 2), hour) ||
      !to_int(s.substr(20, 2), minute) || !to_int(s.substr(23, 2), second)) {
    return std::nullopt;
  }
  int month = -1;
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (s.substr(8, 3) == months[i]) month = static_cast<int>(i);
  }
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = static_cast<int>(year - 1900);
  tm.tm_mon = month;
  tm.tm_mday = static_cast<int>(day);
  tm.tm_hour = static_cast<int>(hour);
  tm.tm_min = static_cast<int>(minute);
  tm.tm_sec = static_cast<int>(second);
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

std::string http_response::header(std::string_view name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

std::optional<std::chrono::seconds> http_response::retry_after(std::chrono::system_clock::time_point now) const {
  const auto it = headers.find(boost::beast::http::field::retry_after);
  if (it == headers.end()) return std::nullopt;
  return parse_retry_after(it->value(), now);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  value = trim(value);
  long long seconds = 0;
  if (to_int(value, seconds)) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  const auto delta = std::chrono::ceil<std::chrono::seconds>(*when - now);
  return delta.count() > 0 ? delta : std::chrono::seconds(0);
}

}  // namespace kintsugi::net
