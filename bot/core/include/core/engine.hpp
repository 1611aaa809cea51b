#pragma once
// The engine: one normalized event and the store in, the actions to send out. Pure: no network, no clock
// of its own (time comes with each event), store access only through core::store.
#include <string>

#include "core/events.hpp"
#include "core/schedule.hpp"
#include "core/store.hpp"

namespace kintsugi::core {

struct engine_options {
  bool create_channel = false;          // start outside an incident channel creates one
  std::string channel_prefix = "inc-";  // channels with this prefix are incident channels
  int default_due_days = 14;            // due date of an action added without one
  std::string bot_user;                 // the bot's own user id, never captured as a person
  reminder_policy reminders;            // prompts, nudges and reminders (core/schedule.hpp)
};

// What capture() did with a chat message.
enum class capture_outcome {
  added,         // it is on its incident's timeline now
  already_there, // the timeline had it already (a redelivery)
  ignored,       // not captured: no incident here, the incident is over, or the bot's own message
};

class engine {
 public:
  engine(store& s, engine_options options);

  // Applies the event to the store and returns what to post. The caller owns the transaction and the
  // inbox (see dispatcher); handle() itself is not idempotent.
  actions handle(const event& e);
  // What handle() does with a chat message (it never has anything to post), saying what became of it: the
  // dispatcher needs no inbox row for a message whose timeline entry remembers it. It writes one row at most, in
  // one statement, so the dispatcher gives it no savepoint: keep it so.
  capture_outcome capture(const message_posted& m);

  const engine_options& options() const { return options_; }

 private:
  struct command_context;

  actions on_message(const message_posted& m);
  actions on_edit(const message_edited& m);
  actions on_delete(const message_deleted& m);
  actions on_reaction(const reaction_added& r);
  actions on_command(const command_invoked& c);
  actions on_tick(const clock_tick& t);
  actions on_pin(const message_pinned& p);
  actions on_channel_created(const channel_created& c);
  actions on_user(const user_updated& u);
  actions on_channel(const channel_info& c);
  actions on_membership(const std::string& channel, const std::string& user, timestamp at, bool joined);

  store& store_;
  engine_options options_;
};

// Mentions in the texts the engine writes are platform-neutral: <@user-id> for a person, <#channel-id> for a
// channel. Each adapter renders them its own way (Slack natively, the console as @name / #name).
std::string mention(std::string_view user_id);
std::string channel_ref(std::string_view channel_id);

}  // namespace kintsugi::core
