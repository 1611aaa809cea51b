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
      },
      e);
}

timestamp time_of(const event& e) {
  return std::visit([](const auto& v) { return v.at; }, e);
}

}  // namespace kintsugi::core
