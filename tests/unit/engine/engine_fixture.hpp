#pragma once
// The fixture of the engine tests: a `bot` that owns a real SQLite store (":memory:"), the engine and the
// dispatcher, and sends one event at a time the way the runners do (process, then deliver). Time comes only
// from the events; nothing reads the wall clock.
//
// The store is wrapped in `faulty_store`, a plain forwarding decorator with one hook: a test can make a chosen
// call throw store_error, to see what the dispatcher rolls back.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "core/events.hpp"
#include "core/model.hpp"
#include "core/store.hpp"
#include "core/time.hpp"
#include "storage/sqlite_store.hpp"

namespace kintsugi::test::engine_fx {

using namespace kintsugi::core;

// ---- time ----------------------------------------------------------------------------------------------

inline timestamp at(std::string_view iso) {
  const auto t = parse_iso(iso);
  REQUIRE(t.has_value());
  return *t;
}

// Friday 2026-11-20 10:00 UTC: the moment every scenario starts.
inline const timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + std::chrono::hours{10}};
// t0 plus `minutes`.
inline timestamp t(int minutes) { return t0 + std::chrono::minutes{minutes}; }

inline date ymd(int y, unsigned m, unsigned d) {
  return date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

inline bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// ---- a store that can be told to fail --------------------------------------------------------------

class faulty_store final : public store {
 public:
  explicit faulty_store(store& inner) : inner_(inner) {}

  // Called before the named call with a detail: add_entry (the text; add_entry_if_new fires it too),
  // create_incident (the title), remember_event and seen_event (the key), enqueue (the action rendered by show()),
  // add_action (the text), update_incident (the title), set_reminder (the kind). Throw from it to make that call
  // fail.
  std::function<void(std::string_view op, std::string_view detail)> hook;

  void begin() override { inner_.begin(); }
  void commit() override { inner_.commit(); }
  void rollback() override { inner_.rollback(); }
  void savepoint() override { inner_.savepoint(); }
  void release_savepoint() override { inner_.release_savepoint(); }
  void rollback_to_savepoint() override { inner_.rollback_to_savepoint(); }
  bool transaction_open() override { return inner_.transaction_open(); }

  bool remember_event(std::string_view key, timestamp when) override {
    fire("remember_event", key);
    return inner_.remember_event(key, when);
  }
  bool seen_event(std::string_view key) override {
    fire("seen_event", key);
    return inner_.seen_event(key);
  }

  id_t create_incident(const incident& i) override {
    fire("create_incident", i.title);
    return inner_.create_incident(i);
  }
  void update_incident(const incident& i) override {
    fire("update_incident", i.title);
    inner_.update_incident(i);
  }
  std::optional<incident> find_incident(id_t id) override { return inner_.find_incident(id); }
  std::optional<incident> incident_in_channel(std::string_view channel) override { return inner_.incident_in_channel(channel); }
  std::vector<incident> incidents_since(timestamp since) override { return inner_.incidents_since(since); }
  std::vector<incident> open_incidents() override { return inner_.open_incidents(); }

  id_t add_entry(const timeline_entry& e) override {
    fire("add_entry", e.text);
    return inner_.add_entry(e);
  }
  bool add_entry_if_new(const timeline_entry& e) override {
    fire("add_entry", e.text);
    return inner_.add_entry_if_new(e);
  }
  void update_entry(const timeline_entry& e) override { inner_.update_entry(e); }
  std::optional<timeline_entry> entry_by_source(std::string_view source_id) override { return inner_.entry_by_source(source_id); }
  std::vector<timeline_entry> timeline(id_t incident_id, std::size_t last = 0) override { return inner_.timeline(incident_id, last); }
  void add_revision(const revision& r) override { inner_.add_revision(r); }
  std::vector<revision> revisions(id_t entry_id) override { return inner_.revisions(entry_id); }
  std::vector<revision> revisions_of_incident(id_t incident_id) override { return inner_.revisions_of_incident(incident_id); }

  id_t add_why(const why& w) override { return inner_.add_why(w); }
  std::vector<why> whys(id_t incident_id) override { return inner_.whys(incident_id); }
  id_t add_factor(const factor& f) override { return inner_.add_factor(f); }
  std::vector<factor> factors(id_t incident_id) override { return inner_.factors(incident_id); }
  id_t add_lesson(const lesson& l) override { return inner_.add_lesson(l); }
  std::vector<lesson> lessons(id_t incident_id) override { return inner_.lessons(incident_id); }

  id_t add_action(const action_item& a) override {
    fire("add_action", a.text);
    return inner_.add_action(a);
  }
  void update_action(const action_item& a) override { inner_.update_action(a); }
  std::optional<action_item> find_action(id_t id) override { return inner_.find_action(id); }
  std::vector<action_item> actions_of(id_t incident_id) override { return inner_.actions_of(incident_id); }
  std::vector<action_item> open_actions() override { return inner_.open_actions(); }
  std::vector<action_item> actions_since(timestamp since) override { return inner_.actions_since(since); }

  void upsert_user(const user& u) override { inner_.upsert_user(u); }
  std::optional<user> find_user(std::string_view id) override { return inner_.find_user(id); }
  void upsert_channel(const channel_info& c) override { inner_.upsert_channel(c); }
  std::optional<channel_info> find_channel(std::string_view id) override { return inner_.find_channel(id); }
  void open_gap(std::string_view channel, timestamp since) override { inner_.open_gap(channel, since); }
  std::optional<capture_gap> find_gap(std::string_view channel) override { return inner_.find_gap(channel); }
  void close_gap(const capture_gap& filled) override { inner_.close_gap(filled); }

  id_t save_document(const document_version& d) override { return inner_.save_document(d); }
  std::optional<document_version> latest_document(id_t incident_id) override { return inner_.latest_document(incident_id); }

  id_t set_reminder(const reminder& r) override {
    fire("set_reminder", name(r.kind));
    return inner_.set_reminder(r);
  }
  void cancel_reminder(reminder_kind kind, id_t subject, std::string_view detail = {}) override {
    inner_.cancel_reminder(kind, subject, detail);
  }
  std::optional<reminder> find_reminder(reminder_kind kind, id_t subject, std::string_view detail = {}) override {
    return inner_.find_reminder(kind, subject, detail);
  }
  std::vector<reminder> due_reminders(timestamp now, std::size_t limit) override { return inner_.due_reminders(now, limit); }
  std::optional<timestamp> next_reminder_due() override { return inner_.next_reminder_due(); }

  id_t enqueue(const action& a, timestamp when) override;
  std::vector<outbox_item> pending(std::size_t limit) override { return inner_.pending(limit); }
  std::vector<outbox_item> pending_on(std::string_view route, std::size_t limit) override {
    return inner_.pending_on(route, limit);
  }
  void mark_sent(id_t outbox_id, timestamp when) override { inner_.mark_sent(outbox_id, when); }
  void mark_failed_attempt(id_t outbox_id) override { inner_.mark_failed_attempt(outbox_id); }

 private:
  void fire(std::string_view op, std::string_view detail) {
    if (hook) hook(op, detail);
  }

  store& inner_;
};

// ---- rendering actions, so a whole reply compares as one string ----------------------------------

// One line per action: "post #chan | text", "ephemeral #chan @user | text", "dm @user | text",
// "create #name", "invite #chan @user", "topic #chan | text", "pin <message id>".
inline std::string show(const action& a) {
  struct visitor {
    std::string operator()(const post_message& p) const { return "post #" + p.channel + " | " + p.text; }
    std::string operator()(const post_ephemeral& p) const { return "ephemeral #" + p.channel + " @" + p.user + " | " + p.text; }
    std::string operator()(const direct_message& d) const { return "dm @" + d.user + " | " + d.text; }
    std::string operator()(const create_channel& c) const { return "create #" + c.name; }
    std::string operator()(const invite_user& i) const { return "invite #" + i.channel + " @" + i.user; }
    std::string operator()(const set_topic& s) const { return "topic #" + s.channel + " | " + s.text; }
    std::string operator()(const publish_document& d) const { return "document #" + d.channel + " " + d.filename; }
    std::string operator()(const pin_message& p) const { return "pin " + p.message_id; }
  };
  return std::visit(visitor{}, a);
}

// The buttons an action offers (none for actions that cannot have any), one "label -> command" line each,
// with " (style)" when styled.
inline std::string show_buttons(const action& a) {
  const std::vector<button>* buttons = nullptr;
  if (const auto* p = std::get_if<post_message>(&a)) buttons = &p->buttons;
  if (const auto* p = std::get_if<post_ephemeral>(&a)) buttons = &p->buttons;
  if (const auto* p = std::get_if<direct_message>(&a)) buttons = &p->buttons;
  std::string out;
  if (buttons == nullptr) return out;
  for (const auto& b : *buttons) out += b.label + " -> " + b.command + (b.style.empty() ? "" : " (" + b.style + ")") + "\n";
  return out;
}

inline std::string show(const actions& all) {
  std::string out;
  for (const auto& a : all) out += show(a) + "\n";
  return out;
}

inline id_t faulty_store::enqueue(const action& a, timestamp when) {
  fire("enqueue", show(a));
  return inner_.enqueue(a, when);
}

// The actions without the topic changes, and the topic changes alone: where a topic change sits among the
// replies is not part of the contract, what it says is.
inline actions without_topics(const actions& all) {
  actions out;
  for (const auto& a : all)
    if (!std::holds_alternative<set_topic>(a)) out.push_back(a);
  return out;
}

inline std::string topics(const actions& all) {
  std::string out;
  for (const auto& a : all)
    if (std::holds_alternative<set_topic>(a)) out += show(a) + "\n";
  return out;
}

// Every action of type T, in order.
template <class T>
std::vector<T> of_kind(const actions& all) {
  std::vector<T> out;
  for (const auto& a : all)
    if (const auto* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

// The one action of the reply, which must be an ephemeral.
inline post_ephemeral only_ephemeral(const actions& all) {
  INFO("actions:\n", show(all));
  REQUIRE(all.size() == 1);
  REQUIRE(std::holds_alternative<post_ephemeral>(all.front()));
  return std::get<post_ephemeral>(all.front());
}

// ---- the bot -------------------------------------------------------------------------------------------

inline engine_options with_channels() {
  engine_options o;
  o.create_channel = true;
  return o;
}

class bot {
 public:
  explicit bot(engine_options options = {}) : eng(db, std::move(options)) {}

  storage::sqlite_store real{":memory:"};
  faulty_store db{real};
  engine eng;
  dispatcher disp{db, eng};
  std::vector<event_outcome> outcomes;  // of the last send

  // Processes one event (one transaction) and delivers the outbox; returns what was delivered.
  actions send(const event& e) { return send_batch(std::vector<event>{e}); }

  actions send_batch(const std::vector<event>& batch) {
    outcomes = disp.process(std::span<const event>{batch});
    REQUIRE(outcomes.size() == batch.size());
    actions out;
    const timestamp now = batch.empty() ? t0 : time_of(batch.back());
    disp.deliver([&out](const action& a) {
      out.push_back(a);
      return true;
    }, now);
    return out;
  }

  // "/incident <text>" typed by `user` in `channel` at `when`; a fresh invocation id each time.
  actions cmd(const std::string& user, const std::string& channel, const std::string& text, timestamp when) {
    return send(command(user, channel, text, when));
  }

  command_invoked command(const std::string& user, const std::string& channel, const std::string& text, timestamp when) {
    return command_invoked{"cmd-" + std::to_string(++invocations_), channel, user, text, when};
  }

  // A chat message with the platform id `id`.
  actions say(const std::string& id, const std::string& user, const std::string& channel, const std::string& text,
              timestamp when) {
    return send(message_posted{id, channel, user, text, when, false, {}});
  }

  // The outcome of the single event of the last send.
  const event_outcome& outcome() const {
    REQUIRE(outcomes.size() == 1);
    return outcomes.front();
  }

  incident inc(id_t id = 1) {
    auto i = db.find_incident(id);
    REQUIRE(i.has_value());
    return *i;
  }

  action_item item(id_t id) {
    auto a = db.find_action(id);
    REQUIRE(a.has_value());
    return *a;
  }

  timeline_entry entry(std::string_view source_id) {
    auto e = db.entry_by_source(source_id);
    REQUIRE(e.has_value());
    return *e;
  }

  std::vector<timeline_entry> timeline(id_t incident_id = 1) { return db.timeline(incident_id); }

  // Timeline entries of one kind, in order.
  std::vector<timeline_entry> entries_of(entry_kind kind, id_t incident_id = 1) {
    std::vector<timeline_entry> out;
    for (auto& e : db.timeline(incident_id))
      if (e.kind == kind) out.push_back(std::move(e));
    return out;
  }

  // Declares "DB down" in `channel` as alice at t0; returns the reply.
  actions start_db(const std::string& channel = "inc-db", const std::string& extra = "") {
    auto out = cmd("alice", channel, "start DB down" + extra, t0);
    REQUIRE(outcome().error.empty());
    REQUIRE(db.incident_in_channel(channel).has_value());
    return out;
  }

 private:
  int invocations_ = 0;
};

}  // namespace kintsugi::test::engine_fx
