#pragma once
// The repository the core talks to. storage/ implements it on SQLite; a PostgreSQL backend can be
// added beside it without touching bot/. Methods throw store_error on failures of the backend
// itself (disk full, corrupt file); expected outcomes ("not found") are values.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "core/model.hpp"

namespace kintsugi::core {

struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A message waiting to be delivered to the platform (the outbox of DESIGN.md's durability rule).
struct outbox_item {
  id_t id = 0;
  action what;
  timestamp queued_at{};
  int attempts = 0;
};

// A postmortem document as it was written at one moment (the document regenerates at any time;
// these are the versions that were posted).
struct document_version {
  id_t id = 0;
  id_t incident_id = 0;
  timestamp written_at{};
  std::string markdown;
};

class store {
 public:
  virtual ~store() = default;

  // Transactions. begin() opens a write transaction (IMMEDIATE); savepoints nest inside it so that one
  // event of a group commit can be rolled back alone.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
  // Whether the transaction begin() opened is still open: SQLite ends it on its own after some failures (an I/O
  // error, a full disk), and then nothing of it is left to commit.
  virtual bool transaction_open() = 0;

  // Inbox: true the first time `key` is seen, false for a redelivery.
  virtual bool remember_event(std::string_view key, timestamp at) = 0;
  // Inbox, read only: whether remember_event(key) was called before (and not rolled back).
  virtual bool seen_event(std::string_view key) = 0;

  // Incidents.
  virtual id_t create_incident(const incident& i) = 0;  // returns the new id (1, 2, 3…)
  virtual void update_incident(const incident& i) = 0;
  virtual std::optional<incident> find_incident(id_t id) = 0;
  // The most recent incident run in `channel`, if any.
  virtual std::optional<incident> incident_in_channel(std::string_view channel) = 0;
  // Incidents declared at or after `since`, oldest first.
  virtual std::vector<incident> incidents_since(timestamp since) = 0;
  virtual std::vector<incident> open_incidents() = 0;

  // Timeline.
  virtual id_t add_entry(const timeline_entry& e) = 0;
  virtual void update_entry(const timeline_entry& e) = 0;
  virtual std::optional<timeline_entry> entry_by_source(std::string_view source_id) = 0;
  // Adds `e` unless an entry with its source id is there already; true when it was added. An entry without a
  // source id is always added. This default asks first; a store with a unique index does both in one step.
  virtual bool add_entry_if_new(const timeline_entry& e) {
    if (!e.source_id.empty() && entry_by_source(e.source_id)) return false;
    add_entry(e);
    return true;
  }
  // Entries of an incident in time order (ties by insertion); `last` > 0 keeps only the last ones.
  virtual std::vector<timeline_entry> timeline(id_t incident_id, std::size_t last = 0) = 0;
  // The newest captured chat message of an incident (kind message, with a source id), where a backfill picks
  // up. This default reads the whole timeline; a store with an index answers it in one lookup.
  virtual std::optional<timeline_entry> latest_message(id_t incident_id) {
    std::optional<timeline_entry> out;
    for (auto& e : timeline(incident_id))
      if (e.kind == entry_kind::message && !e.source_id.empty()) out = std::move(e);
    return out;
  }
  virtual void add_revision(const revision& r) = 0;
  virtual std::vector<revision> revisions(id_t entry_id) = 0;
  // Every revision of every entry of an incident, by entry then time.
  virtual std::vector<revision> revisions_of_incident(id_t incident_id) = 0;

  // Analysis.
  virtual id_t add_why(const why& w) = 0;
  virtual std::vector<why> whys(id_t incident_id) = 0;
  virtual id_t add_factor(const factor& f) = 0;
  virtual std::vector<factor> factors(id_t incident_id) = 0;
  virtual id_t add_lesson(const lesson& l) = 0;
  virtual std::vector<lesson> lessons(id_t incident_id) = 0;

  // Action items.
  virtual id_t add_action(const action_item& a) = 0;
  virtual void update_action(const action_item& a) = 0;
  virtual std::optional<action_item> find_action(id_t id) = 0;
  virtual std::vector<action_item> actions_of(id_t incident_id) = 0;
  virtual std::vector<action_item> open_actions() = 0;
  // Items of incidents declared at or after `since`.
  virtual std::vector<action_item> actions_since(timestamp since) = 0;

  // People.
  virtual void upsert_user(const user& u) = 0;
  virtual std::optional<user> find_user(std::string_view id) = 0;
  virtual void upsert_channel(const channel_info& c) = 0;
  virtual std::optional<channel_info> find_channel(std::string_view id) = 0;

  // Capture gaps, kept across restarts, so that a backfill cut short (by a
  // crash, a rate limit, a dropped connection) resumes where the capture stopped, not after what was heard live
  // since. Opens the gap of `channel` at `since`; when one is open already, keeps its start and counts one more
  // opening.
  virtual void open_gap(std::string_view channel, timestamp since) = 0;
  virtual std::optional<capture_gap> find_gap(std::string_view channel) = 0;
  // Closes the gap a backfill filled, unless it was opened again after the backfill read it (`openings` differs).
  virtual void close_gap(const capture_gap& filled) = 0;

  // Postmortem versions.
  virtual id_t save_document(const document_version& d) = 0;
  virtual std::optional<document_version> latest_document(id_t incident_id) = 0;

  // Reminders (at most one row per kind, subject and detail).
  // Inserts `r`, or replaces the row with the same kind, subject and detail; returns its id.
  virtual id_t set_reminder(const reminder& r) = 0;
  virtual void cancel_reminder(reminder_kind kind, id_t subject, std::string_view detail = {}) = 0;
  virtual std::optional<reminder> find_reminder(reminder_kind kind, id_t subject, std::string_view detail = {}) = 0;
  // Rows due at or before `now`, earliest first (ties by id), at most `limit`.
  virtual std::vector<reminder> due_reminders(timestamp now, std::size_t limit) = 0;
  // The earliest due time of any row, for the timer.
  virtual std::optional<timestamp> next_reminder_due() = 0;

  // Outbox.
  virtual id_t enqueue(const action& a, timestamp at) = 0;
  virtual std::vector<outbox_item> pending(std::size_t limit) = 0;
  // The same, for one platform: items whose route_of(action) is `route`.
  virtual std::vector<outbox_item> pending_on(std::string_view route, std::size_t limit) = 0;
  virtual void mark_sent(id_t outbox_id, timestamp at) = 0;
  virtual void mark_failed_attempt(id_t outbox_id) = 0;
};

// Commits on scope exit unless rolled back or an exception escapes (then rolls back).
class transaction {
 public:
  explicit transaction(store& s) : store_(s) { store_.begin(); }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (done_) return;
    try { store_.rollback(); } catch (...) {}
  }
  void commit() { store_.commit(); done_ = true; }

 private:
  store& store_;
  bool done_ = false;
};

}  // namespace kintsugi::core
