#pragma once
// application/x-www-form-urlencoded bodies (slash commands from Slack and Mattermost, Slack's interactivity),
// decoded with Boost.URL.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::net {

struct form_field {
  std::string name;
  std::string value;
};

// The decoded fields in order, repeated names kept ('+' is a space, %XX a byte). nullopt when the body is not a valid
// query string. Never throws.
std::optional<std::vector<form_field>> decode_form(std::string_view body);

}  // namespace kintsugi::net
