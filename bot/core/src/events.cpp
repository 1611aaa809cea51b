#include "core/events.hpp"

#include "core/overloaded.hpp"

namespace kintsugi::core {

std::string idempotency_key(const event& e) {
  return std::visit(
      overloaded{
          [](const message_posted& m) { return "msg:" + m.id; },
          // An edit is identified by the message and the moment it happened: the same edit delivered
          // twice is one edit, two edits of one message are two.
          [](const message_edited& m) { return "edit:" + m.id + ":" + format_iso(m.at); },
          [](const message_deleted& m) { return "del:" + m.id; },
          [](const reaction_added& r) { return "react:" + r.id + ":" + r.user + ":" + r.emoji; },
          [](const command_invoked& c) { return "cmd:" + c.id; },
          [](const clock_tick&) { return std::string{}; },
          [](const message_pinned& p) { return "pin:" + p.id; },
          [](const channel_created& c) { return "chan:" + c.name + ":" + c.id; },
          [](const user_updated&) { return std::string{}; },  // applying it twice changes nothing
          // A platform may say the same join twice in two shapes (an event and a message) with the same time.
          [](const member_joined& m) { return "join:" + m.channel + ":" + m.user + ":" + format_iso(m.at); },
          [](const member_left& m) { return "leave:" + m.channel + ":" + m.user + ":" + format_iso(m.at); },
          [](const channel_updated&) { return std::string{}; },  // applying it twice changes nothing
      },
      e);
}

std::string_view route_of(std::string_view id) {
  const auto colon = id.find(':');
  if (colon == 0 || colon == std::string_view::npos) return {};
  for (char c : id.substr(0, colon)) {
    if (c < 'a' || c > 'z') return {};
  }
  return id.substr(0, colon);
}

std::string_view route_of(const action& a) {
  return std::visit(overloaded{
                        [](const post_message& p) { return route_of(p.channel); },
                        [](const post_ephemeral& p) { return route_of(p.channel); },
                        [](const direct_message& d) { return route_of(d.user); },
                        [](const create_channel& c) { return route_of(c.name); },
                        [](const invite_user& i) { return route_of(i.channel); },
                        [](const set_topic& t) { return route_of(t.channel); },
                        [](const publish_document& d) { return route_of(d.channel); },
                        [](const pin_message& p) { return route_of(p.message_id); },
                    },
                    a);
}

timestamp time_of(const event& e) {
  return std::visit([](const auto& v) { return v.at; }, e);
}

}  // namespace kintsugi::core
