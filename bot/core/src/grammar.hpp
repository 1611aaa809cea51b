#pragma once
// The /incident grammar's help side (help.cpp), as the parser (command.cpp) uses it.
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::core::detail::grammar {

// The usage line(s) of a subcommand ("start", "action add"; "action" gives every action line), or the overview.
std::string usage_of(std::string_view key);
// The list of every command, by section, with the severities.
std::string overview_text();
// "sev", "severity", "SEV" -> "sev"; empty for anything that is not a subcommand.
std::string_view canonical_topic(std::string_view word);
// The closest candidate by edit distance, or one that the word begins (3 letters or more); empty if none is close.
std::string_view closest_word(std::string_view word, const std::vector<std::string_view>& candidates);
// A word from the user, safe to show between backticks: at most 40 bytes (cut on a character boundary).
std::string quoted(std::string_view s);

}  // namespace kintsugi::core::detail::grammar
