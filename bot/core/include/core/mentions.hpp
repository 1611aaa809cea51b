#pragma once
// The engine writes platform-neutral mentions: <@user-id> for a person and <#channel-id> for a channel (Slack's
// own form, so Slack shows them natively; an optional "|label" part is accepted too). Everything that shows text
// to a person elsewhere (the console, the documents) renders them through here.
#include <functional>
#include <string>
#include <string_view>

namespace kintsugi::core {

// Calls `each(kind, id)` for every mention in `text`; kind is '@' or '#'.
void for_each_mention(std::string_view text, const std::function<void(char, std::string_view)>& each);

// <@id> -> "@" + user_name(id); <#id|label> -> "#label"; <#id> -> "#" + channel_name(id), or "#" + id when that is
// empty or there is no channel_name. Text that only looks similar ("a < b", "<@ x>") stays.
std::string render_mentions(std::string_view text, const std::function<std::string(std::string_view)>& user_name);
std::string render_mentions(std::string_view text, const std::function<std::string(std::string_view)>& user_name,
                            const std::function<std::string(std::string_view)>& channel_name);

}  // namespace kintsugi::core
