#pragma once
// A small in-memory core::store for tests of code that reads a whole record (load_record). It keeps what
// it is given in vectors, answers the read side faithfully and counts find_user calls; transactions,
// the inbox, the outbox and the reminders are no-ops.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store.hpp"

namespace kintsugi::test::core_fakes {

class fake_store : public core::store {
 public:
  std::vector<core::incident> incidents;
  std::vector<core::timeline_entry> entries;
  std::vector<core::revision> revision_rows;
  std::vector<core::why> why_rows;
  std::vector<core::factor> factor_rows;
  std::vector<core::lesson> lesson_rows;
  std::vector<core::action_item> action_rows;
  std::map<std::string, core::user, std::less<>> users;
  int find_user_calls = 0;

  void begin() override {}
  void commit() override {}
  void rollback() override {}
  void savepoint() override {}
  void release_savepoint() override {}
  void rollback_to_savepoint() override {}
  bool transaction_open() override { return true; }
  bool remember_event(std::string_view, core::timestamp) override { return true; }
  bool seen_event(std::string_view) override { return false; }

  core::id_t create_incident(const core::incident& i) override {
    incidents.push_back(i);
    incidents.back().id = static_cast<core::id_t>(incidents.size());
    return incidents.back().id;
  }
  void update_incident(const core::incident& i) override {
    for (auto& x : incidents) {
      if (x.id == i.id) x = i;
    }
  }
  std::optional<core::incident> find_incident(core::id_t id) override {
    for (const auto& x : incidents) {
      if (x.id == id) return x;
    }
    return std::nullopt;
  }
  std::optional<core::incident> incident_in_channel(std::string_view channel) override {
    for (auto it = incidents.rbegin(); it != incidents.rend(); ++it) {
      if (it->channel == channel) return *it;
    }
    return std::nullopt;
  }
  std::vector<core::incident> incidents_since(core::timestamp since) override {
    std::vector<core::incident> out;
    for (const auto& x : incidents) {
      if (x.declared_at >= since) out.push_back(x);
    }
    return out;
  }
  std::vector<core::incident> open_incidents() override {
    std::vector<core::incident> out;
    for (const auto& x : incidents) {
      if (x.open()) out.push_back(x);
    }
    return out;
  }

  core::id_t add_entry(const core::timeline_entry& e) override {
    entries.push_back(e);
    entries.back().id = static_cast<core::id_t>(entries.size());
    return entries.back().id;
  }
  void update_entry(const core::timeline_entry& e) override {
    for (auto& x : entries) {
      if (x.id == e.id) x = e;
    }
  }
  std::optional<core::timeline_entry> entry_by_source(std::string_view source_id) override {
    for (const auto& x : entries) {
      if (!x.source_id.empty() && x.source_id == source_id) return x;
    }
    return std::nullopt;
  }
  std::vector<core::timeline_entry> timeline(core::id_t incident_id, std::size_t last = 0) override {
    std::vector<core::timeline_entry> out;
    for (const auto& x : entries) {
      if (x.incident_id == incident_id) out.push_back(x);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    if (last > 0 && out.size() > last) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(last));
    return out;
  }
  void add_revision(const core::revision& r) override { revision_rows.push_back(r); }
  std::vector<core::revision> revisions(core::id_t entry_id) override {
    std::vector<core::revision> out;
    for (const auto& x : revision_rows) {
      if (x.entry_id == entry_id) out.push_back(x);
    }
    return out;
  }
  std::vector<core::revision> revisions_of_incident(core::id_t incident_id) override {
    std::vector<core::revision> out;
    for (const auto& x : revision_rows) {
      for (const auto& e : entries) {
        if (e.id == x.entry_id && e.incident_id == incident_id) out.push_back(x);
      }
    }
    return out;
  }

  core::id_t add_why(const core::why& w) override { return add_to(why_rows, w); }
  std::vector<core::why> whys(core::id_t incident_id) override { return of(why_rows, incident_id); }
  core::id_t add_factor(const core::factor& f) override { return add_to(factor_rows, f); }
  std::vector<core::factor> factors(core::id_t incident_id) override { return of(factor_rows, incident_id); }
  core::id_t add_lesson(const core::lesson& l) override { return add_to(lesson_rows, l); }
  std::vector<core::lesson> lessons(core::id_t incident_id) override { return of(lesson_rows, incident_id); }

  core::id_t add_action(const core::action_item& a) override { return add_to(action_rows, a); }
  void update_action(const core::action_item& a) override {
    for (auto& x : action_rows) {
      if (x.id == a.id) x = a;
    }
  }
  std::optional<core::action_item> find_action(core::id_t id) override {
    for (const auto& x : action_rows) {
      if (x.id == id) return x;
    }
    return std::nullopt;
  }
  std::vector<core::action_item> actions_of(core::id_t incident_id) override { return of(action_rows, incident_id); }
  std::vector<core::action_item> open_actions() override {
    std::vector<core::action_item> out;
    for (const auto& x : action_rows) {
      if (x.status == core::action_status::open) out.push_back(x);
    }
    return out;
  }
  std::vector<core::action_item> actions_since(core::timestamp since) override {
    std::vector<core::action_item> out;
    for (const auto& x : action_rows) {
      auto i = find_incident(x.incident_id);
      if (i && i->declared_at >= since) out.push_back(x);
    }
    return out;
  }

  void upsert_user(const core::user& u) override { users[u.id] = u; }
  std::map<std::string, core::channel_info, std::less<>> channels;
  void upsert_channel(const core::channel_info& c) override { channels[c.id] = c; }
  std::optional<core::channel_info> find_channel(std::string_view id) override {
    if (auto it = channels.find(id); it != channels.end()) return it->second;
    return std::nullopt;
  }
  std::map<std::string, core::capture_gap, std::less<>> gaps;
  void open_gap(std::string_view channel, core::timestamp since) override {
    auto [it, added] = gaps.try_emplace(std::string(channel), core::capture_gap{std::string(channel), since, 1});
    if (!added) ++it->second.openings;
  }
  std::optional<core::capture_gap> find_gap(std::string_view channel) override {
    if (auto it = gaps.find(channel); it != gaps.end()) return it->second;
    return std::nullopt;
  }
  void close_gap(const core::capture_gap& filled) override {
    if (auto it = gaps.find(filled.channel); it != gaps.end() && it->second.openings == filled.openings) gaps.erase(it);
  }
  std::optional<core::user> find_user(std::string_view id) override {
    ++find_user_calls;
    if (auto it = users.find(id); it != users.end()) return it->second;
    return std::nullopt;
  }

  core::id_t save_document(const core::document_version& d) override {
    documents_.push_back(d);
    documents_.back().id = static_cast<core::id_t>(documents_.size());
    return documents_.back().id;
  }
  std::optional<core::document_version> latest_document(core::id_t incident_id) override {
    for (auto it = documents_.rbegin(); it != documents_.rend(); ++it) {
      if (it->incident_id == incident_id) return *it;
    }
    return std::nullopt;
  }

  core::id_t set_reminder(const core::reminder&) override { return 0; }
  void cancel_reminder(core::reminder_kind, core::id_t, std::string_view) override {}
  std::optional<core::reminder> find_reminder(core::reminder_kind, core::id_t, std::string_view) override { return {}; }
  std::vector<core::reminder> due_reminders(core::timestamp, std::size_t) override { return {}; }
  std::optional<core::timestamp> next_reminder_due() override { return {}; }
  core::id_t enqueue(const core::action&, core::timestamp) override { return 0; }
  std::vector<core::outbox_item> pending(std::size_t) override { return {}; }
  std::vector<core::outbox_item> pending_on(std::string_view, std::size_t) override { return {}; }
  void mark_sent(core::id_t, core::timestamp) override {}
  void mark_failed_attempt(core::id_t) override {}

 private:
  template <class T>
  static core::id_t add_to(std::vector<T>& rows, const T& row) {
    rows.push_back(row);
    rows.back().id = static_cast<core::id_t>(rows.size());
    return rows.back().id;
  }
  template <class T>
  static std::vector<T> of(const std::vector<T>& rows, core::id_t incident_id) {
    std::vector<T> out;
    for (const auto& x : rows) {
      if (x.incident_id == incident_id) out.push_back(x);
    }
    return out;
  }

  std::vector<core::document_version> documents_;
};

}  // namespace kintsugi::test::core_fakes
