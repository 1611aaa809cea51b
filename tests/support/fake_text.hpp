#pragma once
// Small text helpers the fake servers share (fake_slack, fake_mattermost): loose JSON reads and the form encoding
// their HTTP requests use. The bot itself uses net::decode_form; the fakes keep their own, simpler one, so that a
// bug there cannot hide the same bug in the bot.
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace kintsugi::test::fake_text {

// A member as text: a string, an integer or a boolean written out; "" for anything else.
std::string str(const nlohmann::json& j, const char* key);

// application/x-www-form-urlencoded decoding of one name or value ('+' is a space, %XX a byte).
std::string form_decode(std::string_view s);

// As Go's url.QueryEscape: unreserved characters kept, ' ' as '+', everything else %XX.
std::string form_escape(std::string_view s);

// "a=1&b=x+y" -> {a:"1", b:"x y"} (the last value of a repeated name).
std::map<std::string, std::string> form_params(std::string_view body);

}  // namespace kintsugi::test::fake_text
