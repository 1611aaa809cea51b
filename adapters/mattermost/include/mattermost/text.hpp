#pragma once
// Text between the core and Mattermost. The core writes Markdown with platform-neutral mentions (<@id>, <#id>,
// core/mentions.hpp) and a few Slack habits (*bold*, ~strike~, <url|label>); Mattermost reads CommonMark with
// @username and ~channel-name mentions. No nlohmann types here; nothing throws.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::mattermost {

// Core id -> a username or channel name, or "" when unknown.
using name_lookup = std::function<std::string(std::string_view core_id)>;

// Core text -> Mattermost Markdown:
//   <@mm:abc> (also <@mm:abc|label>) -> "@" + lookup_user("mm:abc"); unknown: "@" + label, else "@abc"; an id from
//       elsewhere ("<@U123>") is looked up too and else shown as "@U123"
//   <#mm:ch> -> "~" + lookup_channel("mm:ch"); unknown: "~" + label, else "~name" for a provisional channel the
//       core named before it existed ("mm:inc-20261121-db-down"), else "the incident channel"
//   <https://x|label> -> [label](https://x); <https://x> -> https://x; <!here>, <!channel>, <!everyone> -> @here,
//       @channel, @all
//   *bold* -> **bold**, ~strike~ -> ~~strike~~ (Slack's single markers; **bold**, ~~strike~~, _italic_, links,
//       headings and tables are CommonMark already and stay)
// Code spans and ``` blocks are copied unchanged. Empty lookups are allowed (treated as "unknown").
std::string to_mattermost_text(std::string_view core_text, const name_lookup& lookup_user = {},
                               const name_lookup& lookup_channel = {});

// The "@name" mentions of people in Mattermost text, lowercased, each once, in order of appearance. A username is
// 3 to 22 of [a-z0-9._-] starting with a letter; a trailing '.' ends the sentence, not the name. Left out: @channel,
// @here, @all (and @everyone), e-mail addresses ("a@b.com": the '@' follows a name character), and code spans.
std::vector<std::string> find_usernames(std::string_view text);

// Replaces each "@name" (as find_usernames finds them) that is in `user_ids` (username -> plain user id; keys
// compared lowercased, a leading '@' ignored) with "<@mm:<id>>"; the rest of the text is kept byte for byte.
std::string replace_usernames(std::string_view text, const std::map<std::string, std::string>& user_ids);

}  // namespace kintsugi::mattermost
