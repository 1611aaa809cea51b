#pragma once
// kintsugi::storage::sqlite_store: core::store on one SQLite database file.
//
// Opening a file sets WAL journaling, synchronous=FULL (a committed transaction survives power loss;
// batch events into one transaction to pay one fsync per batch), foreign keys and a busy timeout,
// then brings the schema up to date with the migrations compiled into the binary
// (storage/migrations/NNN_name.sql; PRAGMA user_version is the schema version).
//
// One connection, not thread-safe: use it from one thread at a time (STYLE.md: a one-thread pool).
//
// Behaviour the core::store interface leaves open, as implemented here:
// - remember_event with an empty key (events that need no deduplication) returns true and stores nothing.
// - add_entry with a source_id that is already captured throws store_error (check entry_by_source first, or use
//   add_entry_if_new); an empty source_id is stored as "none", so the bot's own entries never collide.
// - incident_in_channel answers from a cache inside a transaction (begin() to commit() / rollback()); the cache is
//   dropped by create_incident, update_incident, every rollback (also to a savepoint) and, at begin(), by a
//   commit of another connection.
// - add_why with position <= 0 takes the next position of that incident (1 for the first).
// - update_incident / update_entry / update_action / mark_sent / mark_failed_attempt on an id that does
//   not exist throw store_error (that is a bug in the caller, not an expected outcome).
//   mark_sent on an item already sent keeps the first sent time.
// - pending(0) returns nothing; pending(n) the n oldest unsent items by enqueue order.
// - latest_document is the one saved last.
// - revisions_of_incident orders by the entries' timeline order (at, id), then replaced_at.
// - rollback() outside a transaction does nothing; rollback_to_savepoint() also releases the savepoint,
//   so none is left open. transaction_open() is false once SQLite has rolled back on its own (I/O error).
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store.hpp"

namespace kintsugi::storage {

struct sqlite_options {
  // How long a statement waits for another connection's lock before failing with store_error.
  std::chrono::milliseconds busy_timeout{5000};
};

// What the background WAL checkpointer of a file database has done: the passes it ran, and the WAL frames the
// last one found and copied into the database file (-1 when it could not run).
struct wal_checkpoint_report {
  std::size_t passes = 0;
  int frames = 0;
  int copied = 0;
};

class sqlite_store final : public core::store {
 public:
  // `path` is a file name (created if missing) or ":memory:". Throws core::store_error when the file
  // cannot be opened, is not a kintsugi database, or has a schema newer than this build knows.
  explicit sqlite_store(const std::string& path, sqlite_options options = {});
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;
  sqlite_store(sqlite_store&&) = delete;
  sqlite_store& operator=(sqlite_store&&) = delete;

  // The database's schema version (PRAGMA user_version), and the newest one this build knows.
  int schema_version();
  static int latest_schema_version() noexcept;

  // The checkpointer's report once it has run at least `passes` passes, or once `timeout` has passed (for tests
  // and diagnostics). An in-memory database has no WAL and never reports a pass.
  wal_checkpoint_report wal_checkpoints(std::size_t passes = 0, std::chrono::milliseconds timeout = {});

  void begin() override;
  void commit() override;
  void rollback() override;
  void savepoint() override;
  void release_savepoint() override;
  void rollback_to_savepoint() override;
  bool transaction_open() override;

  bool remember_event(std::string_view key, core::timestamp at) override;
  bool seen_event(std::string_view key) override;

  core::id_t create_incident(const core::incident& i) override;
  void update_incident(const core::incident& i) override;
  std::optional<core::incident> find_incident(core::id_t id) override;
  std::optional<core::incident> incident_in_channel(std::string_view channel) override;
  std::vector<core::incident> incidents_since(core::timestamp since) override;
  std::vector<core::incident> open_incidents() override;

  core::id_t add_entry(const core::timeline_entry& e) override;
  void update_entry(const core::timeline_entry& e) override;
  std::optional<core::timeline_entry> entry_by_source(std::string_view source_id) override;
  bool add_entry_if_new(const core::timeline_entry& e) override;
  std::vector<core::timeline_entry> timeline(core::id_t incident_id, std::size_t last = 0) override;
  std::optional<core::timeline_entry> latest_message(core::id_t incident_id) override;
  void add_revision(const core::revision& r) override;
  std::vector<core::revision> revisions(core::id_t entry_id) override;
  std::vector<core::revision> revisions_of_incident(core::id_t incident_id) override;

  core::id_t add_why(const core::why& w) override;
  std::vector<core::why> whys(core::id_t incident_id) override;
  core::id_t add_factor(const core::factor& f) override;
  std::vector<core::factor> factors(core::id_t incident_id) override;
  core::id_t add_lesson(const core::lesson& l) override;
  std::vector<core::lesson> lessons(core::id_t incident_id) override;

  core::id_t add_action(const core::action_item& a) override;
  void update_action(const core::action_item& a) override;
  std::optional<core::action_item> find_action(core::id_t id) override;
  std::vector<core::action_item> actions_of(core::id_t incident_id) override;
  std::vector<core::action_item> open_actions() override;
  std::vector<core::action_item> actions_since(core::timestamp since) override;

  void upsert_user(const core::user& u) override;
  std::optional<core::user> find_user(std::string_view id) override;
  void upsert_channel(const core::channel_info& c) override;
  std::optional<core::channel_info> find_channel(std::string_view id) override;
  void open_gap(std::string_view channel, core::timestamp since) override;
  std::optional<core::capture_gap> find_gap(std::string_view channel) override;
  void close_gap(const core::capture_gap& filled) override;

  core::id_t save_document(const core::document_version& d) override;
  std::optional<core::document_version> latest_document(core::id_t incident_id) override;

  core::id_t set_reminder(const core::reminder& r) override;
  void cancel_reminder(core::reminder_kind kind, core::id_t subject, std::string_view detail = {}) override;
  std::optional<core::reminder> find_reminder(core::reminder_kind kind, core::id_t subject,
                                              std::string_view detail = {}) override;
  std::vector<core::reminder> due_reminders(core::timestamp now, std::size_t limit) override;
  std::optional<core::timestamp> next_reminder_due() override;

  core::id_t enqueue(const core::action& a, core::timestamp at) override;
  std::vector<core::outbox_item> pending(std::size_t limit) override;
  std::vector<core::outbox_item> pending_on(std::string_view route, std::size_t limit) override;
  void mark_sent(core::id_t outbox_id, core::timestamp at) override;
  void mark_failed_attempt(core::id_t outbox_id) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kintsugi::storage
