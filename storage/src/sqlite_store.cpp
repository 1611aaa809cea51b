#include "storage/sqlite_store.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "action_json.hpp"
#include "migrations.hpp"

namespace kintsugi::storage {

namespace {

using SQLite::Statement;

// PRAGMA application_id of a kintsugi database: "KNTS".
constexpr int application_id = 0x4B4E5453;

// Every statement begins here; "storage: <operation>: <what went wrong>". Never carries user data.
[[noreturn]] void fail(std::string_view operation, std::string_view what) {
  std::string message = "storage: ";
  message.append(operation).append(": ").append(what);
  throw core::store_error(message);
}

// Runs `body`, turning SQLite's exceptions into core::store_error with the operation's name.
template <class F>
decltype(auto) guarded(std::string_view operation, F&& body) {
  try {
    return std::forward<F>(body)();
  } catch (const SQLite::Exception& e) {
    fail(operation, e.what());
  }
}

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const auto part : parts) out.append(part);
  return out;
}

// ---- values <-> columns ------------------------------------------------------------------------

std::int64_t micros(core::timestamp t) { return t.time_since_epoch().count(); }
core::timestamp from_micros(std::int64_t v) { return core::timestamp{core::duration{v}}; }

std::int64_t to_limit(std::size_t n) {
  return static_cast<std::int64_t>(std::min<std::size_t>(n, static_cast<std::size_t>(INT64_MAX)));
}

std::string date_text(core::date d) {
  const int year = static_cast<int>(d.year());
  if (!d.ok() || year < 0 || year > 9999) fail("write", "invalid due date (a real day in years 0-9999)");
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02u", year, static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buffer.data();
}

std::optional<core::date> parse_date_text(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto number = [text](std::size_t from, std::size_t length) -> std::optional<unsigned> {
    unsigned value = 0;
    const char* first = text.data() + from;
    const char* last = first + length;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end != last) return std::nullopt;
    return value;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const core::date date{std::chrono::year{static_cast<int>(*y)}, std::chrono::month{*m}, std::chrono::day{*d}};
  if (!date.ok()) return std::nullopt;
  return date;
}

void bind_time(Statement& s, int i, core::timestamp t) { s.bind(i, micros(t)); }
void bind_time(Statement& s, int i, const std::optional<core::timestamp>& t) {
  if (t) {
    s.bind(i, micros(*t));
  } else {
    s.bind(i);
  }
}
void bind_flag(Statement& s, int i, bool b) { s.bind(i, b ? 1 : 0); }
// The text must outlive the statement's use (the `use` guard drops the binding at its end).
void bind_text(Statement& s, int i, const std::string& text) { s.bindNoCopy(i, text); }
template <class E>
void bind_enum(Statement& s, int i, E value) {
  s.bind(i, std::string(core::name(value)));
}

std::string text_at(const Statement& s, int i) {
  const SQLite::Column c = s.getColumn(i);
  return c.isNull() ? std::string{} : c.getString();
}
core::timestamp time_at(const Statement& s, int i) { return from_micros(s.getColumn(i).getInt64()); }
std::optional<core::timestamp> optional_time_at(const Statement& s, int i) {
  const SQLite::Column c = s.getColumn(i);
  if (c.isNull()) return std::nullopt;
  return from_micros(c.getInt64());
}
bool flag_at(const Statement& s, int i) { return s.getColumn(i).getInt64() != 0; }

// Bad data in the file (an enum name this build does not know) is a store_error, never a crash.
template <class E>
E enum_at(const Statement& s, int i, std::optional<E> (*parse)(std::string_view)) {
  const std::string text = text_at(s, i);
  if (auto value = parse(text)) return *value;
  std::string what = "unknown value '";
  what.append(text.substr(0, 40)).append("' in column ").append(s.getColumnName(i));
  fail("read", what);
}

std::optional<core::date> optional_date_at(const Statement& s, int i) {
  const SQLite::Column c = s.getColumn(i);
  if (c.isNull()) return std::nullopt;
  const std::string text = c.getString();
  if (auto d = parse_date_text(text)) return d;
  fail("read", "invalid date '" + text.substr(0, 20) + "' in column " + s.getColumnName(i));
}

// Resets a cached statement and drops its bindings when one use of it ends, however it ends: no
// statement stays active (an active read would pin a WAL snapshot) and no binding outlives its text.
class use {
 public:
  explicit use(Statement& s) noexcept : s_(s) {}
  ~use() {
    s_.tryReset();
    try {
      s_.clearBindings();
    } catch (...) {  // sqlite3_clear_bindings cannot fail; the wrapper only declares it might
    }
  }
  use(const use&) = delete;
  use& operator=(const use&) = delete;
  use(use&&) = delete;
  use& operator=(use&&) = delete;
  Statement& operator*() const noexcept { return s_; }
  Statement* operator->() const noexcept { return &s_; }

 private:
  Statement& s_;
};

// ---- SQL text built from one column list per table, so insert, update and select agree -----------

using columns = std::span<const char* const>;

std::string insert_sql(std::string_view table, columns cols) {
  std::string names;
  std::string params;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) {
      names += ", ";
      params += ", ";
    }
    names += cols[i];
    params += "?" + std::to_string(i + 1);
  }
  return join({"INSERT INTO ", table, " (", names, ") VALUES (", params, ")"});
}

std::string update_sql(std::string_view table, columns cols) {
  std::string sets;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) sets += ", ";
    sets += std::string(cols[i]) + " = ?" + std::to_string(i + 1);
  }
  return join({"UPDATE ", table, " SET ", sets, " WHERE id = ?", std::to_string(cols.size() + 1)});
}

// "SELECT a.id, a.x, a.y FROM table a": the id first, then `cols` in order.
std::string select_sql(std::string_view table, columns cols, std::string_view alias) {
  std::string list = join({alias, ".id"});
  for (const char* col : cols) list += join({", ", alias, ".", col});
  return join({"SELECT ", list, " FROM ", table, " ", alias});
}

constexpr std::array<const char*, 21> incident_columns = {
    "title",       "severity",        "status",      "channel",     "origin_channel",
    "dedicated_channel", "declared_by", "declared_at", "service",   "began_at",
    "detected_at", "acknowledged_at", "mitigated_at", "resolved_at", "commander",
    "scribe",      "facilitator",     "summary",     "impact",      "review_at",
    "nudges"};
static_assert(core::milestone_count == 5, "a new milestone needs a column (a migration) and the lists here");
static_assert(core::role_count == 3, "a new role needs a column (a migration) and the lists here");
constexpr int first_milestone_column = 10;  // began_at, as a 1-based parameter / 0-based result column
constexpr int first_role_column = 15;       // commander

void bind_incident(Statement& s, const core::incident& i) {
  bind_text(s, 1, i.title);
  bind_enum(s, 2, i.level);
  bind_enum(s, 3, i.status);
  bind_text(s, 4, i.channel);
  bind_text(s, 5, i.origin_channel);
  bind_flag(s, 6, i.dedicated_channel);
  bind_text(s, 7, i.declared_by);
  bind_time(s, 8, i.declared_at);
  bind_text(s, 9, i.service);
  for (std::size_t m = 0; m < core::milestone_count; ++m)
    bind_time(s, first_milestone_column + static_cast<int>(m), i.milestones[m]);
  for (std::size_t r = 0; r < core::role_count; ++r) bind_text(s, first_role_column + static_cast<int>(r), i.roles[r]);
  bind_text(s, 18, i.summary);
  bind_text(s, 19, i.impact);
  bind_time(s, 20, i.review_at);
  bind_flag(s, 21, i.nudges);
}

core::incident read_incident(const Statement& s) {
  core::incident i;
  i.id = s.getColumn(0).getInt64();
  i.title = text_at(s, 1);
  i.level = enum_at(s, 2, core::parse_severity);
  i.status = enum_at(s, 3, core::parse_status);
  i.channel = text_at(s, 4);
  i.origin_channel = text_at(s, 5);
  i.dedicated_channel = flag_at(s, 6);
  i.declared_by = text_at(s, 7);
  i.declared_at = time_at(s, 8);
  i.service = text_at(s, 9);
  for (std::size_t m = 0; m < core::milestone_count; ++m)
    i.milestones[m] = optional_time_at(s, first_milestone_column + static_cast<int>(m));
  for (std::size_t r = 0; r < core::role_count; ++r) i.roles[r] = text_at(s, first_role_column + static_cast<int>(r));
  i.summary = text_at(s, 18);
  i.impact = text_at(s, 19);
  i.review_at = optional_time_at(s, 20);
  i.nudges = flag_at(s, 21);
  return i;
}

constexpr std::array<const char*, 11> entry_columns = {"incident_id", "at",     "author",  "kind",
                                                       "text",        "source_id", "edited", "deleted",
                                                       "is_key",      "edited_at", "deleted_at"};

void bind_entry(Statement& s, const core::timeline_entry& e) {
  s.bind(1, e.incident_id);
  bind_time(s, 2, e.at);
  bind_text(s, 3, e.author);
  bind_enum(s, 4, e.kind);
  bind_text(s, 5, e.text);
  if (e.source_id.empty()) {
    s.bind(6);  // NULL: the bot's entries have none, and the unique index skips NULLs
  } else {
    bind_text(s, 6, e.source_id);
  }
  bind_flag(s, 7, e.edited);
  bind_flag(s, 8, e.deleted);
  bind_flag(s, 9, e.key);
  bind_time(s, 10, e.edited_at);
  bind_time(s, 11, e.deleted_at);
}

core::timeline_entry read_entry(const Statement& s) {
  core::timeline_entry e;
  e.id = s.getColumn(0).getInt64();
  e.incident_id = s.getColumn(1).getInt64();
  e.at = time_at(s, 2);
  e.author = text_at(s, 3);
  e.kind = enum_at(s, 4, core::parse_entry_kind);
  e.text = text_at(s, 5);
  e.source_id = text_at(s, 6);
  e.edited = flag_at(s, 7);
  e.deleted = flag_at(s, 8);
  e.key = flag_at(s, 9);
  e.edited_at = optional_time_at(s, 10);
  e.deleted_at = optional_time_at(s, 11);
  return e;
}

constexpr std::array<const char*, 11> action_columns = {"incident_id", "text",       "owner",      "due",
                                                        "kind",        "status",     "created_by", "created_at",
                                                        "closed_at",   "snoozed_until", "fix_held"};

void bind_action(Statement& s, const core::action_item& a) {
  s.bind(1, a.incident_id);
  bind_text(s, 2, a.text);
  bind_text(s, 3, a.owner);
  if (a.due) {
    s.bind(4, date_text(*a.due));
  } else {
    s.bind(4);
  }
  bind_enum(s, 5, a.kind);
  bind_enum(s, 6, a.status);
  bind_text(s, 7, a.created_by);
  bind_time(s, 8, a.created_at);
  bind_time(s, 9, a.closed_at);
  bind_time(s, 10, a.snoozed_until);
  if (a.fix_held) {
    bind_enum(s, 11, *a.fix_held);
  } else {
    s.bind(11);
  }
}

core::action_item read_action(const Statement& s) {
  core::action_item a;
  a.id = s.getColumn(0).getInt64();
  a.incident_id = s.getColumn(1).getInt64();
  a.text = text_at(s, 2);
  a.owner = text_at(s, 3);
  a.due = optional_date_at(s, 4);
  a.kind = enum_at(s, 5, core::parse_action_kind);
  a.status = enum_at(s, 6, core::parse_action_status);
  a.created_by = text_at(s, 7);
  a.created_at = time_at(s, 8);
  a.closed_at = optional_time_at(s, 9);
  a.snoozed_until = optional_time_at(s, 10);
  if (!s.getColumn(11).isNull()) a.fix_held = enum_at(s, 11, core::parse_fix_check);
  return a;
}

constexpr const char* reminder_select = "SELECT id, kind, subject, detail, due, since, count FROM reminders";

core::reminder read_reminder(const Statement& s) {
  core::reminder r;
  r.id = s.getColumn(0).getInt64();
  r.kind = enum_at(s, 1, core::parse_reminder_kind);
  r.subject = s.getColumn(2).getInt64();
  r.detail = text_at(s, 3);
  r.due = time_at(s, 4);
  r.since = time_at(s, 5);
  r.count = s.getColumn(6).getInt();
  return r;
}

core::revision read_revision(const Statement& s) {
  core::revision r;
  r.entry_id = s.getColumn(0).getInt64();
  r.replaced_at = time_at(s, 1);
  r.text = text_at(s, 2);
  return r;
}

// Rows of a query as values, in order.
template <class T, class Read>
std::vector<T> all_rows(Statement& s, Read read) {
  std::vector<T> out;
  while (s.executeStep()) out.push_back(read(s));
  return out;
}

template <class T, class Read>
std::optional<T> one_row(Statement& s, Read read) {
  if (!s.executeStep()) return std::nullopt;
  return read(s);
}

// ---- opening ------------------------------------------------------------------------------------

int pragma_int(SQLite::Database& db, const char* name) {
  return db.execAndGet(join({"PRAGMA ", name})).getInt();
}

bool is_file(const std::string& path) { return !path.empty() && path != ":memory:"; }

// Process-wide, before SQLite's first use: no memory statistics, which take a global mutex on every allocation
// (kintsugi reads none). Refused once SQLite is initialised, which only costs that mutex.
void configure_sqlite_once() {
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
}

SQLite::Database open_database(const std::string& path, const sqlite_options& options) {
  configure_sqlite_once();
  const auto timeout_ms = std::clamp<std::int64_t>(options.busy_timeout.count(), 0, INT_MAX);
  try {
    return SQLite::Database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX,
                            static_cast<int>(timeout_ms));
  } catch (const SQLite::Exception& e) {
    fail("open '" + path + "'", e.what());
  }
}

// Refuses what is not ours before anything is written to it.
int check_identity(SQLite::Database& db, const std::string& path) {
  const std::string operation = "open '" + path + "'";
  int app = 0;
  int version = 0;
  try {
    app = pragma_int(db, "application_id");
    version = pragma_int(db, "user_version");
  } catch (const SQLite::Exception& e) {
    fail(operation, join({"not a kintsugi database (", e.what(), ")"}));
  }
  if (app != application_id && app != 0) {
    fail(operation, "not a kintsugi database (application_id " + std::to_string(app) + ")");
  }
  if (app == 0) {
    int objects = 0;
    try {
      objects = db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'").getInt();
    } catch (const SQLite::Exception& e) {
      fail(operation, join({"not a kintsugi database (", e.what(), ")"}));
    }
    if (objects != 0 || version != 0) fail(operation, "not a kintsugi database (it holds another application's tables)");
  }
  if (version > sqlite_store::latest_schema_version()) {
    fail(operation, "the database has schema version " + std::to_string(version) + ", newer than this build knows (" +
                        std::to_string(sqlite_store::latest_schema_version()) + "); use a newer kintsugi");
  }
  return version;
}

void migrate(SQLite::Database& db, const std::string& path, int version) {
  for (const auto& m : detail::migrations()) {
    if (m.version <= version) continue;
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        // Another connection may have migrated since we looked.
        const int current = pragma_int(db, "user_version");
        if (current < m.version) {
          db.exec(m.sql);
          {
            Statement violations(db, "PRAGMA foreign_key_check");
            if (violations.executeStep()) {
              fail(join({"migration ", m.file}), "leaves a foreign key violation in table " + text_at(violations, 0));
            }
          }
          if (current == 0) db.exec("PRAGMA application_id = " + std::to_string(application_id));
          db.exec("PRAGMA user_version = " + std::to_string(m.version));
        }
        db.exec("COMMIT");
      } catch (...) {
        db.tryExec("ROLLBACK");
        throw;
      }
    } catch (const SQLite::Exception& e) {
      fail(join({"migration ", m.file, " on '", path, "'"}), e.what());
    }
  }
  const int now = pragma_int(db, "user_version");
  if (now > sqlite_store::latest_schema_version()) {
    fail("open '" + path + "'", "another kintsugi upgraded the database to schema version " + std::to_string(now) +
                                    ", newer than this build knows");
  }
}

}  // namespace

// ---- cached statements ----------------------------------------------------------------------------

namespace {

struct statements {
  explicit statements(SQLite::Database& db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        savepoint(db, "SAVEPOINT kintsugi"),
        release(db, "RELEASE kintsugi"),
        rollback_to(db, "ROLLBACK TO kintsugi"),
        data_version(db, "PRAGMA data_version"),
        remember_event(db, "INSERT INTO inbox (event_key, seen_at) VALUES (?1, ?2) ON CONFLICT (event_key) DO NOTHING"),
        seen_event(db, "SELECT 1 FROM inbox WHERE event_key = ?1"),
        insert_incident(db, insert_sql("incidents", incident_columns)),
        update_incident(db, update_sql("incidents", incident_columns)),
        incident_by_id(db, select_sql("incidents", incident_columns, "i") + " WHERE i.id = ?1"),
        incident_by_channel(db, select_sql("incidents", incident_columns, "i") +
                                    " WHERE i.channel = ?1 ORDER BY i.id DESC LIMIT 1"),
        incidents_since(db, select_sql("incidents", incident_columns, "i") +
                                " WHERE i.declared_at >= ?1 ORDER BY i.declared_at, i.id"),
        // The literal matches the partial index incidents_open; the name is checked in the constructor.
        open_incidents(db, select_sql("incidents", incident_columns, "i") + " WHERE i.status <> 'resolved' ORDER BY i.id"),
        insert_entry(db, insert_sql("timeline_entries", entry_columns)),
        // The conflict target repeats the WHERE of the partial index timeline_by_source, or SQLite finds no index.
        insert_entry_if_new(db, insert_sql("timeline_entries", entry_columns) +
                                    " ON CONFLICT (source_id) WHERE source_id IS NOT NULL DO NOTHING"),
        update_entry(db, update_sql("timeline_entries", entry_columns)),
        entry_by_source(db, select_sql("timeline_entries", entry_columns, "e") + " WHERE e.source_id = ?1"),
        timeline_all(db, select_sql("timeline_entries", entry_columns, "e") +
                             " WHERE e.incident_id = ?1 ORDER BY e.at, e.id"),
        timeline_last(db, "SELECT * FROM (" + select_sql("timeline_entries", entry_columns, "e") +
                              " WHERE e.incident_id = ?1 ORDER BY e.at DESC, e.id DESC LIMIT ?2) ORDER BY at, id"),
        // Walks timeline_by_incident backwards from the newest entry to the first message.
        latest_message(db, select_sql("timeline_entries", entry_columns, "e") +
                               " WHERE e.incident_id = ?1 AND e.kind = 'message' AND e.source_id IS NOT NULL"
                               " ORDER BY e.at DESC, e.id DESC LIMIT 1"),
        insert_revision(db, "INSERT INTO revisions (entry_id, replaced_at, text) VALUES (?1, ?2, ?3)"),
        revisions_of_entry(db, "SELECT entry_id, replaced_at, text FROM revisions WHERE entry_id = ?1 "
                               "ORDER BY replaced_at, id"),
        revisions_of_incident(db, "SELECT r.entry_id, r.replaced_at, r.text FROM timeline_entries e "
                                  "JOIN revisions r ON r.entry_id = e.id WHERE e.incident_id = ?1 "
                                  "ORDER BY e.at, e.id, r.replaced_at, r.id"),
        insert_why(db, "INSERT INTO whys (incident_id, position, text, author, at) VALUES (?1, "
                       "CASE WHEN ?2 > 0 THEN ?2 ELSE "
                       "(SELECT coalesce(max(position), 0) + 1 FROM whys WHERE incident_id = ?1) END, ?3, ?4, ?5)"),
        whys_of(db, "SELECT id, incident_id, position, text, author, at FROM whys WHERE incident_id = ?1 "
                    "ORDER BY position, id"),
        insert_factor(db, "INSERT INTO factors (incident_id, kind, text, author, at) VALUES (?1, ?2, ?3, ?4, ?5)"),
        factors_of(db, "SELECT id, incident_id, kind, text, author, at FROM factors WHERE incident_id = ?1 ORDER BY id"),
        insert_lesson(db, "INSERT INTO lessons (incident_id, kind, text, author, at) VALUES (?1, ?2, ?3, ?4, ?5)"),
        lessons_of(db, "SELECT id, incident_id, kind, text, author, at FROM lessons WHERE incident_id = ?1 ORDER BY id"),
        insert_action(db, insert_sql("action_items", action_columns)),
        update_action(db, update_sql("action_items", action_columns)),
        action_by_id(db, select_sql("action_items", action_columns, "a") + " WHERE a.id = ?1"),
        actions_of(db, select_sql("action_items", action_columns, "a") + " WHERE a.incident_id = ?1 ORDER BY a.id"),
        // The literal matches the partial index action_items_open.
        open_actions(db, select_sql("action_items", action_columns, "a") + " WHERE a.status = 'open' ORDER BY a.id"),
        // Through the incidents of the window (incidents_by_declared_at), not a scan of every item.
        actions_since(db, select_sql("action_items", action_columns, "a") +
                              " WHERE a.incident_id IN (SELECT id FROM incidents WHERE declared_at >= ?1) ORDER BY a.id"),
        upsert_user(db, "INSERT INTO users (id, display_name, tz) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, tz = excluded.tz"),
        user_by_id(db, "SELECT id, display_name, tz FROM users WHERE id = ?1"),
        upsert_channel(db, "INSERT INTO channels (id, name) VALUES (?1, ?2) "
                           "ON CONFLICT (id) DO UPDATE SET name = excluded.name"),
        channel_by_id(db, "SELECT id, name FROM channels WHERE id = ?1"),
        open_gap(db, "INSERT INTO capture_gaps (channel, since) VALUES (?1, ?2) "
                     "ON CONFLICT (channel) DO UPDATE SET openings = openings + 1"),
        find_gap(db, "SELECT channel, since, openings FROM capture_gaps WHERE channel = ?1"),
        close_gap(db, "DELETE FROM capture_gaps WHERE channel = ?1 AND openings = ?2"),
        insert_document(db, "INSERT INTO documents (incident_id, written_at, markdown) VALUES (?1, ?2, ?3)"),
        latest_document(db, "SELECT id, incident_id, written_at, markdown FROM documents WHERE incident_id = ?1 "
                            "ORDER BY id DESC LIMIT 1"),
        set_reminder(db, "INSERT INTO reminders (kind, subject, detail, due, since, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                         "ON CONFLICT (kind, subject, detail) DO UPDATE SET due = excluded.due, since = excluded.since, "
                         "count = excluded.count"),
        // No RETURNING on the upsert above: SQLite runs a RETURNING statement as a multi-row write with a statement
        // journal, and inside the dispatcher's per-event savepoint that journal is a temporary file: a tick firing
        // thousands of reminders copied ~6 pages there per reminder. The id is read back by the unique key instead.
        reminder_id(db, "SELECT id FROM reminders WHERE kind = ?1 AND subject = ?2 AND detail = ?3"),
        cancel_reminder(db, "DELETE FROM reminders WHERE kind = ?1 AND subject = ?2 AND detail = ?3"),
        find_reminder(db, std::string{reminder_select} + " WHERE kind = ?1 AND subject = ?2 AND detail = ?3"),
        due_reminders(db, std::string{reminder_select} + " WHERE due <= ?1 ORDER BY due, id LIMIT ?2"),
        next_reminder_due(db, "SELECT min(due) FROM reminders"),
        enqueue(db, "INSERT INTO outbox (action, queued_at, route) VALUES (?1, ?2, ?3)"),
        pending(db, "SELECT id, action, queued_at, attempts FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?1"),
        pending_on(db, "SELECT id, action, queued_at, attempts FROM outbox WHERE sent_at IS NULL AND route = ?2 "
                       "ORDER BY id LIMIT ?1"),
        mark_sent(db, "UPDATE outbox SET sent_at = coalesce(sent_at, ?2) WHERE id = ?1"),
        mark_failed(db, "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1") {}

  Statement begin, commit, rollback, savepoint, release, rollback_to, data_version;
  Statement remember_event, seen_event;
  Statement insert_incident, update_incident, incident_by_id, incident_by_channel, incidents_since, open_incidents;
  Statement insert_entry, insert_entry_if_new, update_entry, entry_by_source, timeline_all, timeline_last, latest_message;
  Statement insert_revision, revisions_of_entry, revisions_of_incident;
  Statement insert_why, whys_of, insert_factor, factors_of, insert_lesson, lessons_of;
  Statement insert_action, update_action, action_by_id, actions_of, open_actions, actions_since;
  Statement upsert_user, user_by_id;
  Statement upsert_channel, channel_by_id;
  Statement open_gap, find_gap, close_gap;
  Statement insert_document, latest_document;
  Statement set_reminder, reminder_id, cancel_reminder, find_reminder, due_reminders, next_reminder_due;
  Statement enqueue, pending, pending_on, mark_sent, mark_failed;
};

}  // namespace

// Copies the WAL back into the database file on a thread and a connection of its own, so that no commit waits
// for it. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that commit (and every
// event waiting for it) then waits for ~4 MB to be written to the database file and synced, which under load
// showed as ack stalls of a second or more. Here the writer's commit only appends to the WAL and syncs it; the
// checkpoint is PASSIVE (it never blocks the writer) and runs when the WAL has grown past `wal_pages`. Should it
// fall far behind (a reader holding the WAL, say), the writer checkpoints itself as SQLite would.
class checkpointer {
 public:
  static constexpr int wal_pages = 1000;        // SQLite's default auto-checkpoint threshold
  static constexpr int writer_fallback = 16000;  // ~64 MB of WAL: checkpoint on the commit path after all

  checkpointer(const std::string& path, sqlite3* writer) : path_(path) {
    sqlite3_wal_hook(writer, &checkpointer::on_commit, this);  // replaces SQLite's own auto-checkpoint
    thread_ = std::thread([this] { run(); });
  }
  ~checkpointer() {
    {
      std::lock_guard lock{mutex_};
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  wal_checkpoint_report report(std::size_t passes, std::chrono::milliseconds timeout) {
    std::unique_lock lock{mutex_};
    passed_.wait_for(lock, timeout, [&] { return report_.passes >= passes; });
    return report_;
  }

 private:
  // After each commit, on the writer's thread, with the WAL's size in pages.
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages) {
    auto* c = static_cast<checkpointer*>(self);
    if (pages >= writer_fallback) {
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= wal_pages) {
      {
        std::lock_guard lock{c->mutex_};
        c->due_ = true;
      }
      c->wake_.notify_one();
    }
    return SQLITE_OK;
  }

  void run() {
    std::optional<SQLite::Database> db;
    for (;;) {
      {
        std::unique_lock lock{mutex_};
        wake_.wait(lock, [this] { return due_ || stop_; });
        if (stop_) return;
        due_ = false;
      }
      try {
        if (!db) {
          db.emplace(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
          // A connection learns that the database is in WAL mode from its first read. Until then a checkpoint
          // does nothing at all: it reports -1 frames, and the WAL grew to the writer's fallback every time.
          db->exec("SELECT count(*) FROM sqlite_schema");
        }
        int frames = -1;
        int copied = -1;
        sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
        ran(frames, copied);
      } catch (const std::exception&) {
        db.reset();  // the writer's fallback keeps the WAL bounded; try again on the next signal
        ran(-1, -1);
      }
    }
  }

  void ran(int frames, int copied) {
    {
      std::lock_guard lock{mutex_};
      report_ = wal_checkpoint_report{report_.passes + 1, frames, copied};
    }
    passed_.notify_all();
  }

  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;    // due_ or stop_ set
  std::condition_variable passed_;  // report_ updated
  bool due_ = false;
  bool stop_ = false;
  wal_checkpoint_report report_;
  std::thread thread_;
};

struct sqlite_store::impl {
  impl(const std::string& path, const sqlite_options& options) : db(open_database(path, options)) {
    const int version = check_identity(db, path);
    guarded("open '" + path + "'", [&] {
      // WAL: readers never block the writer; FULL: a commit is on disk when COMMIT returns.
      if (is_file(path)) db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
    });
    // Foreign keys stay off while migrating (a migration may rebuild a table); each migration
    // checks them before it commits.
    migrate(db, path, version);
    guarded("open '" + path + "'", [&] {
      db.exec("PRAGMA foreign_keys = ON");
      st = std::make_unique<statements>(db);
    });
    if (is_file(path)) wal = std::make_unique<checkpointer>(path, db.getHandle());
    // The partial indexes and two queries spell these names as literals.
    if (core::name(core::incident_status::resolved) != "resolved" || core::name(core::action_status::open) != "open") {
      fail("open", "status names differ from the schema's literals");
    }
  }

  // Text arguments that arrive as string_view, kept so their buffers are reused between calls.
  const std::string& scratch(std::string& buffer, std::string_view text) {
    buffer.assign(text);
    return buffer;
  }

  // incident_in_channel runs for every chat message and reads a whole incident row; inside a write transaction
  // its answers come from here. The cache is exact because it is dropped by every write to `incidents` (this
  // connection's: create_incident, update_incident), by every rollback (of the transaction or of a savepoint),
  // and at begin() when another connection has committed since the last transaction (PRAGMA data_version).
  // Outside a transaction it is not used: another connection may write at any moment there.
  void forget_incidents() noexcept { incidents_by_channel.clear(); }
  void check_data_version() {
    const use s(st->data_version);
    const std::int64_t now = s->executeStep() ? s->getColumn(0).getInt64() : -1;
    if (now != data_version || now < 0) forget_incidents();
    data_version = now;
  }

  // Declared first: destroyed last, after every statement is finalized and the checkpointer stopped.
  SQLite::Database db;
  std::unique_ptr<checkpointer> wal;
  std::unique_ptr<statements> st;
  std::string key_buffer;
  std::string channel_buffer;
  std::string source_buffer;
  std::string user_buffer;
  // By channel; an empty optional is "no incident there". Bounded: cleared when it grows past this many channels.
  static constexpr std::size_t max_cached_channels = 4096;
  std::map<std::string, std::optional<core::incident>, std::less<>> incidents_by_channel;
  bool in_transaction = false;    // between begin() and commit() / rollback()
  std::int64_t data_version = -1;  // PRAGMA data_version when the last transaction began
};

sqlite_store::sqlite_store(const std::string& path, sqlite_options options)
    : impl_(std::make_unique<impl>(path, options)) {}

sqlite_store::~sqlite_store() = default;

int sqlite_store::schema_version() {
  return guarded("schema_version", [&] { return pragma_int(impl_->db, "user_version"); });
}

wal_checkpoint_report sqlite_store::wal_checkpoints(std::size_t passes, std::chrono::milliseconds timeout) {
  return impl_->wal ? impl_->wal->report(passes, timeout) : wal_checkpoint_report{};
}

int sqlite_store::latest_schema_version() noexcept {
  const auto all = detail::migrations();
  return all.empty() ? 0 : all.back().version;
}

// ---- transactions ---------------------------------------------------------------------------------

void sqlite_store::begin() {
  guarded("begin", [&] {
    use(impl_->st->begin)->exec();
    try {
      impl_->check_data_version();
    } catch (...) {
      impl_->forget_incidents();
      use(impl_->st->rollback)->tryExecuteStep();
      throw;
    }
    impl_->in_transaction = true;
  });
}

void sqlite_store::commit() {
  guarded("commit", [&] {
    try {
      use(impl_->st->commit)->exec();
    } catch (...) {
      // SQLite may have rolled the transaction back; what the cache holds may be gone from the file.
      impl_->forget_incidents();
      throw;
    }
    impl_->in_transaction = false;
  });
}

void sqlite_store::rollback() {
  impl_->forget_incidents();
  impl_->in_transaction = false;
  guarded("rollback", [&] {
    // SQLite may already have rolled back on its own (disk full, I/O error): nothing left to undo.
    if (sqlite3_get_autocommit(impl_->db.getHandle()) != 0) return;
    use(impl_->st->rollback)->exec();
  });
}

bool sqlite_store::transaction_open() {
  return impl_->in_transaction && sqlite3_get_autocommit(impl_->db.getHandle()) == 0;
}

void sqlite_store::savepoint() {
  guarded("savepoint", [&] { use(impl_->st->savepoint)->exec(); });
}

void sqlite_store::release_savepoint() {
  guarded("release_savepoint", [&] { use(impl_->st->release)->exec(); });
}

void sqlite_store::rollback_to_savepoint() {
  impl_->forget_incidents();
  guarded("rollback_to_savepoint", [&] {
    // ROLLBACK TO keeps the savepoint open; RELEASE it so it does not linger into the next event.
    use(impl_->st->rollback_to)->exec();
    use(impl_->st->release)->exec();
  });
}

// ---- inbox ----------------------------------------------------------------------------------------

bool sqlite_store::remember_event(std::string_view key, core::timestamp at) {
  if (key.empty()) return true;  // nothing to deduplicate on (clock ticks)
  return guarded("remember_event", [&] {
    const use s(impl_->st->remember_event);
    bind_text(*s, 1, impl_->scratch(impl_->key_buffer, key));
    bind_time(*s, 2, at);
    return s->exec() == 1;
  });
}

bool sqlite_store::seen_event(std::string_view key) {
  if (key.empty()) return false;  // remember_event stores nothing for it
  return guarded("seen_event", [&] {
    const use s(impl_->st->seen_event);
    bind_text(*s, 1, impl_->scratch(impl_->key_buffer, key));
    return s->executeStep();
  });
}

// ---- incidents ------------------------------------------------------------------------------------

core::id_t sqlite_store::create_incident(const core::incident& i) {
  impl_->forget_incidents();
  return guarded("create_incident", [&] {
    const use s(impl_->st->insert_incident);
    bind_incident(*s, i);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

void sqlite_store::update_incident(const core::incident& i) {
  impl_->forget_incidents();
  guarded("update_incident", [&] {
    const use s(impl_->st->update_incident);
    bind_incident(*s, i);
    s->bind(static_cast<int>(incident_columns.size()) + 1, i.id);
    if (s->exec() == 0) fail("update_incident", "no incident " + std::to_string(i.id));
  });
}

std::optional<core::incident> sqlite_store::find_incident(core::id_t id) {
  return guarded("find_incident", [&] {
    const use s(impl_->st->incident_by_id);
    s->bind(1, id);
    return one_row<core::incident>(*s, read_incident);
  });
}

std::optional<core::incident> sqlite_store::incident_in_channel(std::string_view channel) {
  const auto read = [&] {
    return guarded("incident_in_channel", [&] {
      const use s(impl_->st->incident_by_channel);
      bind_text(*s, 1, impl_->scratch(impl_->channel_buffer, channel));
      return one_row<core::incident>(*s, read_incident);
    });
  };
  if (!impl_->in_transaction) return read();
  if (sqlite3_get_autocommit(impl_->db.getHandle()) != 0) {
    // SQLite ended the transaction on its own (an I/O error rolls it back): what the cache holds may be gone.
    impl_->forget_incidents();
    return read();
  }
  auto& cache = impl_->incidents_by_channel;
  if (const auto hit = cache.find(channel); hit != cache.end()) return hit->second;
  auto found = read();
  if (cache.size() >= impl::max_cached_channels) cache.clear();
  cache.emplace(std::string{channel}, found);
  return found;
}

std::vector<core::incident> sqlite_store::incidents_since(core::timestamp since) {
  return guarded("incidents_since", [&] {
    const use s(impl_->st->incidents_since);
    bind_time(*s, 1, since);
    return all_rows<core::incident>(*s, read_incident);
  });
}

std::vector<core::incident> sqlite_store::open_incidents() {
  return guarded("open_incidents", [&] {
    const use s(impl_->st->open_incidents);
    return all_rows<core::incident>(*s, read_incident);
  });
}

// ---- timeline -------------------------------------------------------------------------------------

core::id_t sqlite_store::add_entry(const core::timeline_entry& e) {
  return guarded("add_entry", [&] {
    const use s(impl_->st->insert_entry);
    bind_entry(*s, e);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

bool sqlite_store::add_entry_if_new(const core::timeline_entry& e) {
  return guarded("add_entry_if_new", [&] {
    const use s(impl_->st->insert_entry_if_new);
    bind_entry(*s, e);
    return s->exec() == 1;
  });
}

void sqlite_store::update_entry(const core::timeline_entry& e) {
  guarded("update_entry", [&] {
    const use s(impl_->st->update_entry);
    bind_entry(*s, e);
    s->bind(static_cast<int>(entry_columns.size()) + 1, e.id);
    if (s->exec() == 0) fail("update_entry", "no timeline entry " + std::to_string(e.id));
  });
}

std::optional<core::timeline_entry> sqlite_store::entry_by_source(std::string_view source_id) {
  if (source_id.empty()) return std::nullopt;  // the bot's entries have no source
  return guarded("entry_by_source", [&] {
    const use s(impl_->st->entry_by_source);
    bind_text(*s, 1, impl_->scratch(impl_->source_buffer, source_id));
    return one_row<core::timeline_entry>(*s, read_entry);
  });
}

std::vector<core::timeline_entry> sqlite_store::timeline(core::id_t incident_id, std::size_t last) {
  return guarded("timeline", [&] {
    if (last == 0) {
      const use s(impl_->st->timeline_all);
      s->bind(1, incident_id);
      return all_rows<core::timeline_entry>(*s, read_entry);
    }
    const use s(impl_->st->timeline_last);
    s->bind(1, incident_id);
    s->bind(2, to_limit(last));
    return all_rows<core::timeline_entry>(*s, read_entry);
  });
}

std::optional<core::timeline_entry> sqlite_store::latest_message(core::id_t incident_id) {
  return guarded("latest_message", [&] {
    const use s(impl_->st->latest_message);
    s->bind(1, incident_id);
    return one_row<core::timeline_entry>(*s, read_entry);
  });
}

void sqlite_store::add_revision(const core::revision& r) {
  guarded("add_revision", [&] {
    const use s(impl_->st->insert_revision);
    s->bind(1, r.entry_id);
    bind_time(*s, 2, r.replaced_at);
    bind_text(*s, 3, r.text);
    s->exec();
  });
}

std::vector<core::revision> sqlite_store::revisions(core::id_t entry_id) {
  return guarded("revisions", [&] {
    const use s(impl_->st->revisions_of_entry);
    s->bind(1, entry_id);
    return all_rows<core::revision>(*s, read_revision);
  });
}

std::vector<core::revision> sqlite_store::revisions_of_incident(core::id_t incident_id) {
  return guarded("revisions_of_incident", [&] {
    const use s(impl_->st->revisions_of_incident);
    s->bind(1, incident_id);
    return all_rows<core::revision>(*s, read_revision);
  });
}

// ---- analysis -------------------------------------------------------------------------------------

core::id_t sqlite_store::add_why(const core::why& w) {
  return guarded("add_why", [&] {
    const use s(impl_->st->insert_why);
    s->bind(1, w.incident_id);
    s->bind(2, w.position);
    bind_text(*s, 3, w.text);
    bind_text(*s, 4, w.author);
    bind_time(*s, 5, w.at);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

std::vector<core::why> sqlite_store::whys(core::id_t incident_id) {
  return guarded("whys", [&] {
    const use s(impl_->st->whys_of);
    s->bind(1, incident_id);
    return all_rows<core::why>(*s, [](const Statement& row) {
      core::why w;
      w.id = row.getColumn(0).getInt64();
      w.incident_id = row.getColumn(1).getInt64();
      w.position = row.getColumn(2).getInt();
      w.text = text_at(row, 3);
      w.author = text_at(row, 4);
      w.at = time_at(row, 5);
      return w;
    });
  });
}

namespace {

// Factors and lessons share a shape: id, incident, kind, text, author, time.
template <class T>
core::id_t insert_analysis(SQLite::Database& db, Statement& statement, const T& item) {
  const use s(statement);
  s->bind(1, item.incident_id);
  bind_enum(*s, 2, item.kind);
  bind_text(*s, 3, item.text);
  bind_text(*s, 4, item.author);
  bind_time(*s, 5, item.at);
  s->exec();
  return db.getLastInsertRowid();
}

template <class T, class Kind>
std::vector<T> select_analysis(Statement& statement, core::id_t incident_id,
                               std::optional<Kind> (*parse)(std::string_view)) {
  const use s(statement);
  s->bind(1, incident_id);
  return all_rows<T>(*s, [parse](const Statement& row) {
    T item;
    item.id = row.getColumn(0).getInt64();
    item.incident_id = row.getColumn(1).getInt64();
    item.kind = enum_at(row, 2, parse);
    item.text = text_at(row, 3);
    item.author = text_at(row, 4);
    item.at = time_at(row, 5);
    return item;
  });
}

}  // namespace

core::id_t sqlite_store::add_factor(const core::factor& f) {
  return guarded("add_factor", [&] { return insert_analysis(impl_->db, impl_->st->insert_factor, f); });
}

std::vector<core::factor> sqlite_store::factors(core::id_t incident_id) {
  return guarded("factors", [&] {
    return select_analysis<core::factor>(impl_->st->factors_of, incident_id, core::parse_factor_kind);
  });
}

core::id_t sqlite_store::add_lesson(const core::lesson& l) {
  return guarded("add_lesson", [&] { return insert_analysis(impl_->db, impl_->st->insert_lesson, l); });
}

std::vector<core::lesson> sqlite_store::lessons(core::id_t incident_id) {
  return guarded("lessons", [&] {
    return select_analysis<core::lesson>(impl_->st->lessons_of, incident_id, core::parse_lesson_kind);
  });
}

// ---- action items ---------------------------------------------------------------------------------

core::id_t sqlite_store::add_action(const core::action_item& a) {
  return guarded("add_action", [&] {
    const use s(impl_->st->insert_action);
    bind_action(*s, a);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

void sqlite_store::update_action(const core::action_item& a) {
  guarded("update_action", [&] {
    const use s(impl_->st->update_action);
    bind_action(*s, a);
    s->bind(static_cast<int>(action_columns.size()) + 1, a.id);
    if (s->exec() == 0) fail("update_action", "no action item " + std::to_string(a.id));
  });
}

std::optional<core::action_item> sqlite_store::find_action(core::id_t id) {
  return guarded("find_action", [&] {
    const use s(impl_->st->action_by_id);
    s->bind(1, id);
    return one_row<core::action_item>(*s, read_action);
  });
}

std::vector<core::action_item> sqlite_store::actions_of(core::id_t incident_id) {
  return guarded("actions_of", [&] {
    const use s(impl_->st->actions_of);
    s->bind(1, incident_id);
    return all_rows<core::action_item>(*s, read_action);
  });
}

std::vector<core::action_item> sqlite_store::open_actions() {
  return guarded("open_actions", [&] {
    const use s(impl_->st->open_actions);
    return all_rows<core::action_item>(*s, read_action);
  });
}

std::vector<core::action_item> sqlite_store::actions_since(core::timestamp since) {
  return guarded("actions_since", [&] {
    const use s(impl_->st->actions_since);
    bind_time(*s, 1, since);
    return all_rows<core::action_item>(*s, read_action);
  });
}

// ---- people ---------------------------------------------------------------------------------------

void sqlite_store::upsert_user(const core::user& u) {
  guarded("upsert_user", [&] {
    const use s(impl_->st->upsert_user);
    bind_text(*s, 1, u.id);
    bind_text(*s, 2, u.display_name);
    bind_text(*s, 3, u.tz);
    s->exec();
  });
}

std::optional<core::user> sqlite_store::find_user(std::string_view id) {
  return guarded("find_user", [&] {
    const use s(impl_->st->user_by_id);
    bind_text(*s, 1, impl_->scratch(impl_->user_buffer, id));
    return one_row<core::user>(*s, [](const Statement& row) {
      return core::user{text_at(row, 0), text_at(row, 1), text_at(row, 2)};
    });
  });
}

void sqlite_store::upsert_channel(const core::channel_info& c) {
  guarded("upsert_channel", [&] {
    const use s(impl_->st->upsert_channel);
    bind_text(*s, 1, c.id);
    bind_text(*s, 2, c.name);
    s->exec();
  });
}

std::optional<core::channel_info> sqlite_store::find_channel(std::string_view id) {
  return guarded("find_channel", [&] {
    const use s(impl_->st->channel_by_id);
    bind_text(*s, 1, impl_->scratch(impl_->user_buffer, id));
    return one_row<core::channel_info>(*s, [](const Statement& row) {
      return core::channel_info{text_at(row, 0), text_at(row, 1)};
    });
  });
}

// ---- capture gaps ---------------------------------------------------------------------------------

void sqlite_store::open_gap(std::string_view channel, core::timestamp since) {
  guarded("open_gap", [&] {
    const use s(impl_->st->open_gap);
    bind_text(*s, 1, impl_->scratch(impl_->user_buffer, channel));
    bind_time(*s, 2, since);
    s->exec();
  });
}

std::optional<core::capture_gap> sqlite_store::find_gap(std::string_view channel) {
  return guarded("find_gap", [&] {
    const use s(impl_->st->find_gap);
    bind_text(*s, 1, impl_->scratch(impl_->user_buffer, channel));
    return one_row<core::capture_gap>(*s, [](const Statement& row) {
      return core::capture_gap{text_at(row, 0), time_at(row, 1), row.getColumn(2).getInt64()};
    });
  });
}

void sqlite_store::close_gap(const core::capture_gap& filled) {
  guarded("close_gap", [&] {
    const use s(impl_->st->close_gap);
    bind_text(*s, 1, filled.channel);
    s->bind(2, filled.openings);
    s->exec();
  });
}

// ---- documents ------------------------------------------------------------------------------------

core::id_t sqlite_store::save_document(const core::document_version& d) {
  return guarded("save_document", [&] {
    const use s(impl_->st->insert_document);
    s->bind(1, d.incident_id);
    bind_time(*s, 2, d.written_at);
    bind_text(*s, 3, d.markdown);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

std::optional<core::document_version> sqlite_store::latest_document(core::id_t incident_id) {
  return guarded("latest_document", [&] {
    const use s(impl_->st->latest_document);
    s->bind(1, incident_id);
    return one_row<core::document_version>(*s, [](const Statement& row) {
      core::document_version d;
      d.id = row.getColumn(0).getInt64();
      d.incident_id = row.getColumn(1).getInt64();
      d.written_at = time_at(row, 2);
      d.markdown = text_at(row, 3);
      return d;
    });
  });
}

// ---- reminders ------------------------------------------------------------------------------------

namespace {
void bind_reminder_key(Statement& s, core::reminder_kind kind, core::id_t subject, const std::string& detail) {
  bind_enum(s, 1, kind);
  s.bind(2, subject);
  bind_text(s, 3, detail);
}
}  // namespace

core::id_t sqlite_store::set_reminder(const core::reminder& r) {
  return guarded("set_reminder", [&] {
    {
      const use s(impl_->st->set_reminder);
      bind_reminder_key(*s, r.kind, r.subject, r.detail);
      bind_time(*s, 4, r.due);
      bind_time(*s, 5, r.since);
      s->bind(6, r.count);
      s->exec();
    }
    const use s(impl_->st->reminder_id);
    bind_reminder_key(*s, r.kind, r.subject, r.detail);
    if (!s->executeStep()) fail("set_reminder", "the row is not there after the upsert");
    return s->getColumn(0).getInt64();
  });
}

void sqlite_store::cancel_reminder(core::reminder_kind kind, core::id_t subject, std::string_view detail) {
  guarded("cancel_reminder", [&] {
    const std::string d{detail};
    const use s(impl_->st->cancel_reminder);
    bind_reminder_key(*s, kind, subject, d);
    s->exec();
  });
}

std::optional<core::reminder> sqlite_store::find_reminder(core::reminder_kind kind, core::id_t subject,
                                                          std::string_view detail) {
  return guarded("find_reminder", [&] {
    const std::string d{detail};
    const use s(impl_->st->find_reminder);
    bind_reminder_key(*s, kind, subject, d);
    return one_row<core::reminder>(*s, read_reminder);
  });
}

std::vector<core::reminder> sqlite_store::due_reminders(core::timestamp now, std::size_t limit) {
  if (limit == 0) return {};
  return guarded("due_reminders", [&] {
    const use s(impl_->st->due_reminders);
    bind_time(*s, 1, now);
    s->bind(2, to_limit(limit));
    return all_rows<core::reminder>(*s, read_reminder);
  });
}

std::optional<core::timestamp> sqlite_store::next_reminder_due() {
  return guarded("next_reminder_due", [&] {
    const use s(impl_->st->next_reminder_due);
    std::optional<core::timestamp> out;
    if (s->executeStep()) out = optional_time_at(*s, 0);
    return out;
  });
}

// ---- outbox ---------------------------------------------------------------------------------------

core::id_t sqlite_store::enqueue(const core::action& a, core::timestamp at) {
  return guarded("enqueue", [&] {
    const std::string json = detail::action_to_json(a);
    const use s(impl_->st->enqueue);
    bind_text(*s, 1, json);
    bind_time(*s, 2, at);
    const std::string route{core::route_of(a)};
    bind_text(*s, 3, route);
    s->exec();
    return impl_->db.getLastInsertRowid();
  });
}

namespace {

std::vector<core::outbox_item> outbox_rows(Statement& s) {
  return all_rows<core::outbox_item>(s, [](const Statement& row) {
    core::outbox_item item;
    item.id = row.getColumn(0).getInt64();
    item.what = detail::action_from_json(text_at(row, 1));
    item.queued_at = time_at(row, 2);
    item.attempts = row.getColumn(3).getInt();
    return item;
  });
}

}  // namespace

std::vector<core::outbox_item> sqlite_store::pending(std::size_t limit) {
  if (limit == 0) return {};
  return guarded("pending", [&] {
    const use s(impl_->st->pending);
    s->bind(1, to_limit(limit));
    return outbox_rows(*s);
  });
}

std::vector<core::outbox_item> sqlite_store::pending_on(std::string_view route, std::size_t limit) {
  if (limit == 0) return {};
  return guarded("pending_on", [&] {
    const use s(impl_->st->pending_on);
    s->bind(1, to_limit(limit));
    const std::string wanted{route};
    bind_text(*s, 2, wanted);
    return outbox_rows(*s);
  });
}

void sqlite_store::mark_sent(core::id_t outbox_id, core::timestamp at) {
  guarded("mark_sent", [&] {
    const use s(impl_->st->mark_sent);
    s->bind(1, outbox_id);
    bind_time(*s, 2, at);
    if (s->exec() == 0) fail("mark_sent", "no outbox item " + std::to_string(outbox_id));
  });
}

void sqlite_store::mark_failed_attempt(core::id_t outbox_id) {
  guarded("mark_failed_attempt", [&] {
    const use s(impl_->st->mark_failed);
    s->bind(1, outbox_id);
    if (s->exec() == 0) fail("mark_failed_attempt", "no outbox item " + std::to_string(outbox_id));
  });
}

}  // namespace kintsugi::storage
