#pragma once
// Time-zone lookup shared by time.cpp and schedule.cpp: an IANA name to the system tz database's zone.
#include <date/tz.h>

#include <string>
#include <string_view>

namespace kintsugi::core::detail {

// nullptr means UTC: an empty name, "UTC", or a name the database does not know.
inline const ::date::time_zone* find_zone(std::string_view tz) {
  if (tz.empty() || tz == "UTC" || tz == "Etc/UTC") return nullptr;
  try {
    return ::date::locate_zone(std::string{tz});
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace kintsugi::core::detail
