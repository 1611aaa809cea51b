// The reminder rows of issue 4: one per (kind, subject, detail), found by due time through an index.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "storage/sqlite_store.hpp"
#include "temp_dir.hpp"

namespace core = kintsugi::core;
using kintsugi::storage::sqlite_store;
using namespace std::chrono_literals;

namespace {

core::timestamp at(int minutes) {
  return core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20}} + 10h + std::chrono::minutes{minutes};
}

core::reminder make(core::reminder_kind kind, core::id_t subject, std::string detail, int due_minutes) {
  core::reminder r;
  r.kind = kind;
  r.subject = subject;
  r.detail = std::move(detail);
  r.due = at(due_minutes);
  r.since = at(0);
  return r;
}

}  // namespace

TEST_CASE("reminders: set, find, replace and cancel one row per kind, subject and detail") {
  sqlite_store s{":memory:"};
  CHECK_FALSE(s.next_reminder_due().has_value());
  CHECK_FALSE(s.find_reminder(core::reminder_kind::role_ask, 1, "commander").has_value());

  const auto id = s.set_reminder(make(core::reminder_kind::role_ask, 1, "commander", 5));
  s.set_reminder(make(core::reminder_kind::role_ask, 1, "scribe", 15));
  s.set_reminder(make(core::reminder_kind::update_nudge, 1, "", 30));

  auto got = s.find_reminder(core::reminder_kind::role_ask, 1, "commander");
  REQUIRE(got.has_value());
  CHECK(got->id == id);
  CHECK(got->due == at(5));
  CHECK(got->since == at(0));
  CHECK(got->count == 0);

  // The same key again replaces the row in place (same id), never adds a second.
  auto again = make(core::reminder_kind::role_ask, 1, "commander", 15);
  again.count = 1;
  CHECK(s.set_reminder(again) == id);
  got = s.find_reminder(core::reminder_kind::role_ask, 1, "commander");
  REQUIRE(got.has_value());
  CHECK(got->due == at(15));
  CHECK(got->count == 1);
  CHECK(s.due_reminders(at(1000), 100).size() == 3);

  s.cancel_reminder(core::reminder_kind::role_ask, 1, "commander");
  CHECK_FALSE(s.find_reminder(core::reminder_kind::role_ask, 1, "commander").has_value());
  CHECK(s.find_reminder(core::reminder_kind::role_ask, 1, "scribe").has_value());
  s.cancel_reminder(core::reminder_kind::role_ask, 99, "nothing");  // cancelling nothing is fine
}

TEST_CASE("reminders: due rows come earliest first, limited, next_reminder_due is the minimum") {
  sqlite_store s{":memory:"};
  s.set_reminder(make(core::reminder_kind::action_due, 3, "", 60));
  s.set_reminder(make(core::reminder_kind::action_due, 1, "", 20));
  s.set_reminder(make(core::reminder_kind::digest, 0, "", 20));
  s.set_reminder(make(core::reminder_kind::lookback, 2, "", 90));
  CHECK(s.next_reminder_due() == at(20));

  CHECK(s.due_reminders(at(19), 10).empty());
  auto due = s.due_reminders(at(60), 10);
  REQUIRE(due.size() == 3);
  CHECK(due[0].kind == core::reminder_kind::action_due);  // at(20), inserted first
  CHECK(due[0].subject == 1);
  CHECK(due[1].kind == core::reminder_kind::digest);
  CHECK(due[2].subject == 3);
  CHECK(s.due_reminders(at(60), 2).size() == 2);
  CHECK(s.due_reminders(at(60), 0).empty());
}

TEST_CASE("reminders: rows survive a restart and the due-time query uses the index") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    s.set_reminder(make(core::reminder_kind::review_ask, 7, "", 45));
  }
  sqlite_store s{path};
  CHECK(s.next_reminder_due() == at(45));
  auto due = s.due_reminders(at(45), 5);
  REQUIRE(due.size() == 1);
  CHECK(due[0].subject == 7);

  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  SQLite::Statement plan(raw, "EXPLAIN QUERY PLAN SELECT id FROM reminders WHERE due <= 1 ORDER BY due, id LIMIT 5");
  std::string steps;
  while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
  CHECK(steps.find("reminders_by_due") != std::string::npos);
  CHECK(steps.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("reminders: an unknown kind in the file is a store_error, not a crash") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  { sqlite_store s{path}; }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("INSERT INTO reminders (kind, subject, detail, due, since) VALUES ('telepathy', 1, '', 0, 0)");
  }
  sqlite_store s{path};
  CHECK_THROWS_AS(s.due_reminders(at(0), 10), core::store_error);
}
