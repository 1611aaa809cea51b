#pragma once
// Normalized events (platform -> core) and actions (core -> platform). Adapters translate their
// wire formats to and from these; the core never sees JSON, HTTP or SQL.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/model.hpp"
#include "core/time.hpp"

namespace kintsugi::core {

// A chat message. `id` is the platform's message id, unique across channels (adapters prefix it
// with the channel where the platform's ids are only unique per channel, as Slack's ts is).
struct message_posted {
  std::string id;
  std::string channel;
  std::string user;
  std::string text;
  timestamp at{};
  bool from_bot = false;    // the bot's own post: never captured as a person's message
  std::string thread_id;    // the parent message id for a thread reply, else empty
};

struct message_edited {
  std::string id;
  std::string text;
  timestamp at{};
};

struct message_deleted {
  std::string id;
  timestamp at{};
};

struct reaction_added {
  std::string id;     // the message reacted to
  std::string user;
  std::string emoji;  // short name without colons ("pushpin")
  timestamp at{};
};

// "/incident …": `text` is everything after the command word ("start db down sev1").
struct command_invoked {
  std::string id;  // idempotency key for this invocation
  std::string channel;
  std::string user;
  std::string text;
  timestamp at{};
};

// The clock moved: due reminders fire.
struct clock_tick {
  timestamp at{};
};

// A message was pinned in its channel (Slack's pin_added): a key event, like a 📌 reaction.
struct message_pinned {
  std::string id;
  std::string user;
  timestamp at{};
};

// The platform created the channel the engine asked for by name; from now on it is known by `id`.
struct channel_created {
  std::string name;
  std::string id;
  timestamp at{};
};

// What the platform's directory says about a person: display name and time zone.
struct user_updated {
  user who;
  timestamp at{};
};

// Someone joined or left a channel (Slack's member_joined_channel / member_left_channel, and the channel_join /
// channel_leave messages that say the same). The bot's own comings and goings are not reported.
struct member_joined {
  std::string channel;
  std::string user;
  timestamp at{};
};

struct member_left {
  std::string channel;
  std::string user;
  timestamp at{};
};

// What the platform's directory says about a channel: its name, so documents and other platforms' text can show
// "#inc-db-down" rather than an id.
struct channel_updated {
  channel_info what;
  timestamp at{};
};

using event = std::variant<message_posted, message_edited, message_deleted, reaction_added, command_invoked, clock_tick,
                           message_pinned, channel_created, user_updated, member_joined, member_left, channel_updated>;

// The key under which an event is remembered, so that a redelivery changes nothing.
// Empty for events that need no deduplication (ticks).
std::string idempotency_key(const event& e);
timestamp time_of(const event& e);

// A button offered with a message. Pressing it is the same as the person who pressed it typing
// "/incident <command>" in the channel that shows the message (for a direct message: the DM channel), so
// every command a button carries must also work there. Platforms without buttons show the text alone,
// which therefore always says how to do the same by typing.
struct button {
  std::string label;    // "I'll be commander": short, it is all the person reads
  std::string command;  // the /incident command without "/incident ": "role commander me"
  std::string style;    // "" (plain), "primary" or "danger"

  bool operator==(const button&) const = default;
};

struct post_message {
  std::string channel;
  std::string text;
  std::vector<button> buttons{};
  bool pin = false;  // pin the message in its channel once posted (an incident's header), where the platform can
};

// Seen only by `user` (errors, help).
struct post_ephemeral {
  std::string channel;
  std::string user;
  std::string text;
  std::vector<button> buttons{};
};

struct direct_message {
  std::string user;
  std::string text;
  std::vector<button> buttons{};
};

struct create_channel {
  std::string name;
};

struct invite_user {
  std::string channel;
  std::string user;
};

struct set_topic {
  std::string channel;
  std::string text;
};

// A finished document for the platform to keep as a file where it can: the console writes it into
// postmortem.dir when that is set; a chat adapter may upload it. The same text is also posted.
struct publish_document {
  std::string channel;
  std::string filename;  // "INC-7.md"
  std::string content;
};

// Pin a message in its channel (a 📌 made it a key event): `message_id` is the platform's id, as a timeline
// entry's source_id keeps it. Platforms without pins drop it.
struct pin_message {
  std::string message_id;
};

using action = std::variant<post_message, post_ephemeral, direct_message, create_channel, invite_user, set_topic,
                            publish_document, pin_message>;
using actions = std::vector<action>;

// Several platforms in one process: every id a platform hands the core (channel, user, message) carries the
// platform's route as a prefix, "<route>:<id>", except the first platform's (Slack, the console), whose ids are
// bare and whose route is "". Mattermost's is "mm". A route is lower-case letters before the first ':', which
// no bare id starts with (Slack's "C0123:1712.0001" message ids start upper-case).
inline constexpr std::string_view mattermost_route = "mm";
std::string_view route_of(std::string_view id);
// The route of the platform an action goes to: that of its channel, user or message (for create_channel, of the
// name the engine gave it, which carries the route of the channel the incident was declared from).
std::string_view route_of(const action& a);

}  // namespace kintsugi::core
