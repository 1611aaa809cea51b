#pragma once
// Small ASCII text helpers shared by the parser, the help texts, the documents, the blame check and the
// metrics. ASCII only on purpose: the bytes of UTF-8 sequences (0x80 and up) are never letters, digits,
// spaces or upper case here, so they pass through untouched.
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::core::detail::ascii {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Space or tab: the blanks inside one line.
constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }
// Space, tab, line feed or carriage return.
constexpr bool is_space(char c) { return is_blank(c) || c == '\n' || c == '\r'; }
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// Not empty, and 0-9 only.
bool all_digits(std::string_view s);

// Without leading and trailing is_space characters.
std::string_view trim(std::string_view s);
// Without leading and trailing blanks (line breaks stay).
std::string_view trim_blanks(std::string_view s);
// The runs of non-space characters, in order.
std::vector<std::string_view> words(std::string_view s);

}  // namespace kintsugi::core::detail::ascii
