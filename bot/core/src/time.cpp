#include "core/time.hpp"

#include <date/tz.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

#include "zone.hpp"

namespace kintsugi::core {
namespace {

using namespace std::chrono;

// A cursor over text with the few reads an ISO 8601 parser needs.
struct reader {
  std::string_view s;
  std::size_t i = 0;

  bool done() const { return i >= s.size(); }
  bool peek(char c) const { return i < s.size() && s[i] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i;
    return true;
  }
  // Exactly n digits.
  std::optional<int> digits(std::size_t n) {
    if (s.size() - i < n || i > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    i += n;
    return v;
  }
};

struct civil {
  int y = 0;
  unsigned mo = 0, d = 0;
  int h = 0, mi = 0, sec = 0;
  long long micros = 0;
  std::optional<minutes> offset;  // nullopt: no zone given
};

std::optional<sys_days> make_day(int y, unsigned mo, unsigned d) {
  year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

// YYYY-MM-DD
bool read_date(reader& r, civil& c) {
  auto y = r.digits(4);
  if (!y || !r.eat('-')) return false;
  auto mo = r.digits(2);
  if (!mo || !r.eat('-')) return false;
  auto d = r.digits(2);
  if (!d) return false;
  c.y = *y;
  c.mo = static_cast<unsigned>(*mo);
  c.d = static_cast<unsigned>(*d);
  return true;
}

// HH:MM[:SS[.fraction]]
bool read_clock(reader& r, civil& c) {
  auto h = r.digits(2);
  if (!h || !r.eat(':')) return false;
  auto mi = r.digits(2);
  if (!mi || *h > 23 || *mi > 59) return false;
  c.h = *h;
  c.mi = *mi;
  if (r.eat(':')) {
    auto sec = r.digits(2);
    if (!sec || *sec > 60) return false;  // 60: a leap second, folded into the next minute
    c.sec = *sec;
    if (r.eat('.') || r.eat(',')) {
      long long scale = 100000;
      std::size_t n = 0;
      while (!r.done() && std::isdigit(static_cast<unsigned char>(r.s[r.i]))) {
        if (scale > 0) c.micros += (r.s[r.i] - '0') * scale;
        scale /= 10;
        ++r.i;
        ++n;
      }
      if (n == 0) return false;
    }
  }
  return true;
}

// Z | ±HH:MM | ±HHMM | ±HH, or nothing.
bool read_zone(reader& r, civil& c) {
  if (r.done()) return true;
  if (r.eat('Z') || r.eat('z')) {
    c.offset = minutes{0};
    return r.done();
  }
  int sign = 0;
  if (r.eat('+')) sign = 1;
  else if (r.eat('-')) sign = -1;
  else return false;
  auto h = r.digits(2);
  if (!h || *h > 23) return false;
  int m = 0;
  if (!r.done()) {
    r.eat(':');
    auto mm = r.digits(2);
    if (!mm || *mm > 59) return false;
    m = *mm;
  }
  c.offset = minutes{sign * (*h * 60 + m)};
  return r.done();
}

// "YYYY-MM-DD[T| ]HH:MM[:SS[.f]][zone]"
std::optional<civil> read_datetime(std::string_view text) {
  reader r{text};
  civil c;
  if (!read_date(r, c)) return std::nullopt;
  if (!(r.eat('T') || r.eat('t') || r.eat(' '))) return std::nullopt;
  if (!read_clock(r, c) || !read_zone(r, c)) return std::nullopt;
  return c;
}

std::optional<timestamp> to_utc(const civil& c, minutes offset) {
  auto day = make_day(c.y, c.mo, c.d);
  if (!day) return std::nullopt;
  auto t = timestamp{*day} + hours{c.h} + minutes{c.mi} + seconds{c.sec} + microseconds{c.micros};
  return t - offset;
}

using detail::find_zone;

// A local wall-clock time in `zone` (nullptr = UTC) to UTC. In a DST gap the earliest valid instant is used.
std::optional<timestamp> local_to_utc(const civil& c, const ::date::time_zone* zone) {
  if (zone == nullptr) return to_utc(c, minutes{0});
  auto day = make_day(c.y, c.mo, c.d);
  if (!day) return std::nullopt;
  auto local = ::date::local_time<microseconds>{(*day).time_since_epoch()} + hours{c.h} + minutes{c.mi} +
               seconds{c.sec} + microseconds{c.micros};
  try {
    return time_point_cast<microseconds>(zone->to_sys(local, ::date::choose::earliest));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string two(long long v) {
  std::array<char, 24> buf{};
  std::snprintf(buf.data(), buf.size(), "%02lld", v);
  return buf.data();
}

}  // namespace

std::string format_date(date d) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf.data();
}

date date_of(timestamp t) { return year_month_day{floor<days>(t)}; }
timestamp start_of(date d) { return timestamp{sys_days{d}}; }

date local_date_of(timestamp t, std::string_view tz) {
  const ::date::time_zone* zone = find_zone(tz);
  if (zone == nullptr) return date_of(t);
  auto local = zone->to_local(t);
  return year_month_day{sys_days{floor<days>(local).time_since_epoch()}};
}

std::string format_iso(timestamp t) {
  auto day = floor<days>(t);
  hh_mm_ss<microseconds> tod{t - day};
  std::string out = format_date(year_month_day{day});
  out += 'T';
  out += two(tod.hours().count()) + ':' + two(tod.minutes().count()) + ':' + two(tod.seconds().count());
  auto us = tod.subseconds().count();
  if (us != 0) {
    std::array<char, 32> buf{};
    if (us % 1000 == 0) std::snprintf(buf.data(), buf.size(), ".%03lld", static_cast<long long>(us / 1000));
    else std::snprintf(buf.data(), buf.size(), ".%06lld", static_cast<long long>(us));
    out += buf.data();
  }
  out += 'Z';
  return out;
}

std::string format_minute(timestamp t) {
  auto day = floor<days>(t);
  hh_mm_ss<microseconds> tod{t - day};
  return format_date(year_month_day{day}) + ' ' + two(tod.hours().count()) + ':' + two(tod.minutes().count());
}

std::string format_clock(timestamp t) {
  auto day = floor<days>(t);
  hh_mm_ss<microseconds> tod{t - day};
  return two(tod.hours().count()) + ':' + two(tod.minutes().count());
}

std::optional<timestamp> parse_iso(std::string_view text) {
  auto c = read_datetime(text);
  if (!c) return std::nullopt;
  return to_utc(*c, c->offset.value_or(minutes{0}));
}

std::optional<date> parse_date(std::string_view text) {
  reader r{text};
  civil c;
  if (!read_date(r, c) || !r.done()) return std::nullopt;
  date d{year{c.y}, month{c.mo}, day{c.d}};
  if (!d.ok()) return std::nullopt;
  return d;
}

std::optional<timestamp> parse_user_time(std::string_view text, timestamp now, std::string_view tz) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const ::date::time_zone* zone = find_zone(tz);
  if (text.size() <= 8 && text.find('-') == std::string_view::npos) {
    // "HH:MM" or "HH:MM:SS": today, in the user's zone.
    reader r{text};
    civil c;
    if (!read_clock(r, c) || !r.done()) return std::nullopt;
    year_month_day today = local_date_of(now, tz);
    c.y = static_cast<int>(today.year());
    c.mo = static_cast<unsigned>(today.month());
    c.d = static_cast<unsigned>(today.day());
    return local_to_utc(c, zone);
  }
  auto c = read_datetime(text);
  if (!c) return std::nullopt;
  if (c->offset) return to_utc(*c, *c->offset);
  return local_to_utc(*c, zone);
}

std::optional<duration> parse_duration(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  duration total{0};
  std::size_t i = 0;
  while (i < text.size()) {
    long long n = 0;
    std::size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > 1'000'000) return std::nullopt;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i >= text.size()) return std::nullopt;
    char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
    switch (unit) {
      case 'w': total += weeks{n}; break;
      case 'd': total += days{n}; break;
      case 'h': total += hours{n}; break;
      case 'm': total += minutes{n}; break;
      case 's': total += seconds{n}; break;
      default: return std::nullopt;
    }
  }
  if (total <= duration::zero() || total > days{3660}) return std::nullopt;
  return total;
}

std::string format_duration(duration d) {
  if (d < duration::zero()) return "-" + format_duration(-d);
  auto s = duration_cast<seconds>(d).count();
  auto dd = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (dd > 0) return std::to_string(dd) + "d" + (h ? " " + std::to_string(h) + "h" : "");
  if (h > 0) return std::to_string(h) + "h " + two(m) + "m";
  if (m > 0) return std::to_string(m) + "m" + (sec ? " " + two(sec) + "s" : "");
  return std::to_string(sec) + "s";
}

}  // namespace kintsugi::core
