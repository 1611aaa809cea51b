#include "storage/sqlite_store.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include "core/capture_gaps.hpp"
#include "temp_dir.hpp"

namespace core = kintsugi::core;
using kintsugi::storage::sqlite_store;
using namespace std::chrono_literals;

namespace doctest {
template <>
struct StringMaker<core::timestamp> {
  static String convert(const core::timestamp& t) {
    return (std::to_string(t.time_since_epoch().count()) + "us").c_str();
  }
};
template <>
struct StringMaker<std::optional<core::timestamp>> {
  static String convert(const std::optional<core::timestamp>& t) {
    return t ? StringMaker<core::timestamp>::convert(*t) : String("nullopt");
  }
};
}  // namespace doctest

namespace {

// 2026-11-20T10:00:00Z plus `minutes`, with microseconds so precision is checked too.
core::timestamp at(int minutes, int micros = 0) {
  return core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20}} + 10h +
         std::chrono::minutes{minutes} + std::chrono::microseconds{micros};
}

// Text that trips naive storage: quotes, a newline, non-ASCII, an embedded NUL.
const std::string tricky = std::string("it's \"db-1\"\nline two — ü 🔥 ") + std::string(1, '\0') + "after nul";

// Runs `body` once on an in-memory database and once on a file, the two ways the store is opened.
template <class F>
void on_both(F&& body) {
  SUBCASE("in memory") {
    sqlite_store s{":memory:"};
    body(s);
  }
  SUBCASE("in a file") {
    const kintsugi::test::temp_dir dir;
    sqlite_store s{dir.file("kintsugi.db")};
    body(s);
  }
}

// The message of the store_error `f` throws, or "" when it throws none.
template <class F>
std::string store_error_of(F&& f) {
  try {
    f();
  } catch (const core::store_error& e) {
    return e.what();
  }
  return {};
}

core::incident full_incident() {
  core::incident i;
  i.title = "Checkout " + tricky;
  i.level = core::severity::near_miss;
  i.status = core::incident_status::monitoring;
  i.channel = "C-inc-1";
  i.origin_channel = "C-general";
  i.dedicated_channel = true;
  i.declared_by = "U-alice";
  i.declared_at = at(0, 123456);
  i.service = "payments";
  i.at(core::milestone::began) = at(-30, 1);
  i.at(core::milestone::detected) = at(-5, 2);
  i.at(core::milestone::acknowledged) = at(1, 3);
  i.at(core::milestone::mitigated) = at(20, 4);
  i.at(core::milestone::resolved) = at(45, 5);
  i.holder(core::role::commander) = "U-alice";
  i.holder(core::role::scribe) = "U-bob";
  i.holder(core::role::facilitator) = "U-carol";
  i.summary = "The primary database ran out of connections.";
  i.impact = "Checkout failed for 12% of requests for 40 minutes.";
  i.review_at = at(3 * 24 * 60);
  i.nudges = false;
  return i;
}

core::incident plain_incident(std::string channel, core::timestamp declared) {
  core::incident i;
  i.title = "incident in " + channel;
  i.channel = channel;
  i.origin_channel = channel;
  i.declared_by = "U-dave";
  i.declared_at = declared;
  return i;
}

void check_same(const core::incident& got, const core::incident& want) {
  CHECK(got.title == want.title);
  CHECK(got.level == want.level);
  CHECK(got.status == want.status);
  CHECK(got.channel == want.channel);
  CHECK(got.origin_channel == want.origin_channel);
  CHECK(got.dedicated_channel == want.dedicated_channel);
  CHECK(got.declared_by == want.declared_by);
  CHECK(got.declared_at == want.declared_at);
  CHECK(got.service == want.service);
  for (std::size_t m = 0; m < core::milestone_count; ++m) {
    CAPTURE(m);
    CHECK(got.milestones[m] == want.milestones[m]);
  }
  for (std::size_t r = 0; r < core::role_count; ++r) {
    CAPTURE(r);
    CHECK(got.roles[r] == want.roles[r]);
  }
  CHECK(got.summary == want.summary);
  CHECK(got.impact == want.impact);
  CHECK(got.review_at == want.review_at);
  CHECK(got.nudges == want.nudges);
}

core::timeline_entry message(core::id_t incident, std::string source, core::timestamp when, std::string text) {
  core::timeline_entry e;
  e.incident_id = incident;
  e.at = when;
  e.author = "U-alice";
  e.kind = core::entry_kind::message;
  e.text = std::move(text);
  e.source_id = std::move(source);
  return e;
}

core::timeline_entry bot_entry(core::id_t incident, core::timestamp when, std::string text) {
  core::timeline_entry e;
  e.incident_id = incident;
  e.at = when;
  e.author = std::string(core::bot_author);
  e.kind = core::entry_kind::status;
  e.text = std::move(text);
  return e;
}

void check_same(const core::timeline_entry& got, const core::timeline_entry& want) {
  CHECK(got.incident_id == want.incident_id);
  CHECK(got.at == want.at);
  CHECK(got.author == want.author);
  CHECK(got.kind == want.kind);
  CHECK(got.text == want.text);
  CHECK(got.source_id == want.source_id);
  CHECK(got.edited == want.edited);
  CHECK(got.deleted == want.deleted);
  CHECK(got.key == want.key);
  CHECK(got.edited_at == want.edited_at);
  CHECK(got.deleted_at == want.deleted_at);
}

std::vector<std::string> texts(const std::vector<core::timeline_entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.text);
  return out;
}

core::action_item full_action(core::id_t incident) {
  core::action_item a;
  a.incident_id = incident;
  a.text = "Alert on connection pool saturation " + tricky;
  a.owner = "U-bob";
  a.due = core::date{std::chrono::year{2026} / 12 / 1};
  a.kind = core::action_kind::detection;
  a.status = core::action_status::done;
  a.created_by = "U-alice";
  a.created_at = at(50, 7);
  a.closed_at = at(60 * 24, 8);
  a.snoozed_until = at(60 * 12, 9);
  a.fix_held = core::fix_check::regressed;
  return a;
}

core::action_item simple_action(core::id_t incident, std::string text) {
  core::action_item a;
  a.incident_id = incident;
  a.text = std::move(text);
  a.owner = "U-erin";
  a.created_by = "U-alice";
  a.created_at = at(70);
  return a;
}

void check_same(const core::action_item& got, const core::action_item& want) {
  CHECK(got.incident_id == want.incident_id);
  CHECK(got.text == want.text);
  CHECK(got.owner == want.owner);
  CHECK(got.due.has_value() == want.due.has_value());
  if (got.due && want.due) CHECK(*got.due == *want.due);
  CHECK(got.kind == want.kind);
  CHECK(got.status == want.status);
  CHECK(got.created_by == want.created_by);
  CHECK(got.created_at == want.created_at);
  CHECK(got.closed_at == want.closed_at);
  CHECK(got.snoozed_until == want.snoozed_until);
  CHECK(got.fix_held == want.fix_held);
}

std::vector<core::id_t> ids(const std::vector<core::action_item>& items) {
  std::vector<core::id_t> out;
  for (const auto& a : items) out.push_back(a.id);
  return out;
}

std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("sqlite_store: a fresh database is at the latest schema version and empty") {
  on_both([](sqlite_store& s) {
    CHECK(sqlite_store::latest_schema_version() >= 1);
    CHECK(s.schema_version() == sqlite_store::latest_schema_version());
    CHECK_FALSE(s.find_incident(1).has_value());
    CHECK_FALSE(s.incident_in_channel("C1").has_value());
    CHECK(s.open_incidents().empty());
    CHECK(s.timeline(1).empty());
    CHECK(s.pending(10).empty());
    CHECK_FALSE(s.find_action(1).has_value());
    CHECK_FALSE(s.find_user("U1").has_value());
    CHECK_FALSE(s.latest_document(1).has_value());
  });
}

TEST_CASE("sqlite_store: the inbox remembers each event key once") {
  on_both([](sqlite_store& s) {
    CHECK(s.remember_event("C1:1700000000.000100", at(0)));
    CHECK_FALSE(s.remember_event("C1:1700000000.000100", at(1)));
    CHECK(s.remember_event("C1:1700000000.000200", at(1)));
    CHECK_FALSE(s.remember_event("C1:1700000000.000200", at(2)));
    // Keys differing only in case are different events.
    CHECK(s.remember_event("c1:1700000000.000100", at(2)));
    // Events without a key (ticks) are never deduplicated.
    CHECK(s.remember_event("", at(3)));
    CHECK(s.remember_event("", at(3)));
  });
}

TEST_CASE("sqlite_store: seen_event reads the inbox without writing to it") {
  on_both([](sqlite_store& s) {
    CHECK_FALSE(s.seen_event("msg:C1:1700000000.000100"));
    CHECK_FALSE(s.seen_event("msg:C1:1700000000.000100"));  // asking remembers nothing
    CHECK(s.remember_event("msg:C1:1700000000.000100", at(0)));
    CHECK(s.seen_event("msg:C1:1700000000.000100"));
    CHECK_FALSE(s.seen_event("msg:c1:1700000000.000100"));
    CHECK_FALSE(s.seen_event(""));  // remember_event keeps nothing for an empty key
    s.begin();
    CHECK(s.remember_event("msg:rolled-back", at(1)));
    CHECK(s.seen_event("msg:rolled-back"));
    s.rollback();
    CHECK_FALSE(s.seen_event("msg:rolled-back"));
  });
}

TEST_CASE("sqlite_store: an incident round-trips every field") {
  on_both([](sqlite_store& s) {
    const core::incident want = full_incident();
    const core::id_t id = s.create_incident(want);
    CHECK(id == 1);
    const auto got = s.find_incident(id);
    REQUIRE(got.has_value());
    CHECK(got->id == id);
    check_same(*got, want);

    // Unset optionals and empty roles come back unset and empty.
    const core::incident plain = plain_incident("C-2", at(5));
    const auto plain_got = s.find_incident(s.create_incident(plain));
    REQUIRE(plain_got.has_value());
    check_same(*plain_got, plain);
    CHECK_FALSE(plain_got->at(core::milestone::began).has_value());
    CHECK(plain_got->holder(core::role::scribe).empty());
    CHECK_FALSE(plain_got->review_at.has_value());
    CHECK(plain_got->nudges);
    CHECK_FALSE(s.find_incident(99).has_value());
  });
}

TEST_CASE("sqlite_store: incident ids count up and update_incident replaces every field") {
  on_both([](sqlite_store& s) {
    CHECK(s.create_incident(plain_incident("C-a", at(0))) == 1);
    CHECK(s.create_incident(plain_incident("C-b", at(1))) == 2);
    CHECK(s.create_incident(plain_incident("C-c", at(2))) == 3);

    core::incident changed = full_incident();
    changed.id = 2;
    s.update_incident(changed);
    const auto got = s.find_incident(2);
    REQUIRE(got.has_value());
    check_same(*got, changed);

    // And back: optionals cleared, roles emptied.
    core::incident cleared = plain_incident("C-b", at(1));
    cleared.id = 2;
    s.update_incident(cleared);
    const auto again = s.find_incident(2);
    REQUIRE(again.has_value());
    check_same(*again, cleared);

    // The others are untouched.
    CHECK(s.find_incident(1)->channel == "C-a");
    CHECK(s.find_incident(3)->channel == "C-c");
  });
}

TEST_CASE("sqlite_store: incident_in_channel is the newest incident of that channel") {
  on_both([](sqlite_store& s) {
    const auto first = s.create_incident(plain_incident("C-db", at(0)));
    s.create_incident(plain_incident("C-web", at(1)));
    CHECK(s.incident_in_channel("C-db")->id == first);
    const auto second = s.create_incident(plain_incident("C-db", at(2)));
    const auto found = s.incident_in_channel("C-db");
    REQUIRE(found.has_value());
    CHECK(found->id == second);
    CHECK(found->title == "incident in C-db");
    CHECK(s.incident_in_channel("C-web")->id == 2);
    CHECK_FALSE(s.incident_in_channel("C-none").has_value());
    CHECK_FALSE(s.incident_in_channel("").has_value());
  });
}

TEST_CASE("sqlite_store: incident_in_channel inside a transaction sees every change, also after rollbacks") {
  on_both([](sqlite_store& s) {
    s.begin();
    CHECK_FALSE(s.incident_in_channel("C-db").has_value());  // remembered as "none"
    const auto first = s.create_incident(plain_incident("C-db", at(0)));
    REQUIRE(s.incident_in_channel("C-db").has_value());
    CHECK(s.incident_in_channel("C-db")->id == first);

    core::incident moved = *s.find_incident(first);
    moved.channel = "C-db-2";  // the platform created the channel: from now on it is known by its id
    moved.title = "renamed";
    s.update_incident(moved);
    CHECK_FALSE(s.incident_in_channel("C-db").has_value());
    CHECK(s.incident_in_channel("C-db-2")->title == "renamed");

    s.savepoint();
    const auto second = s.create_incident(plain_incident("C-web", at(1)));
    CHECK(s.incident_in_channel("C-web")->id == second);
    moved.title = "renamed again";
    s.update_incident(moved);
    CHECK(s.incident_in_channel("C-db-2")->title == "renamed again");
    s.rollback_to_savepoint();
    CHECK_FALSE(s.incident_in_channel("C-web").has_value());
    CHECK(s.incident_in_channel("C-db-2")->title == "renamed");
    s.commit();

    CHECK(s.incident_in_channel("C-db-2")->title == "renamed");
    s.begin();
    CHECK(s.incident_in_channel("C-db-2")->title == "renamed");
    s.create_incident(plain_incident("C-ops", at(2)));
    CHECK(s.incident_in_channel("C-ops").has_value());
    s.rollback();
    CHECK_FALSE(s.incident_in_channel("C-ops").has_value());
    s.begin();
    CHECK_FALSE(s.incident_in_channel("C-ops").has_value());
    s.commit();
  });
}

TEST_CASE("sqlite_store: incident_in_channel sees what another connection committed between transactions") {
  const kintsugi::test::temp_dir dir;
  sqlite_store mine{dir.file("kintsugi.db")};
  sqlite_store other{dir.file("kintsugi.db")};
  const auto id = other.create_incident(plain_incident("C-db", at(0)));
  mine.begin();
  CHECK(mine.incident_in_channel("C-db")->title == "incident in C-db");
  CHECK_FALSE(mine.incident_in_channel("C-web").has_value());
  mine.commit();

  core::incident changed = *other.find_incident(id);
  changed.title = "changed elsewhere";
  other.update_incident(changed);
  other.create_incident(plain_incident("C-web", at(1)));
  // Outside a transaction the answer is always read afresh.
  CHECK(mine.incident_in_channel("C-db")->title == "changed elsewhere");
  mine.begin();
  CHECK(mine.incident_in_channel("C-db")->title == "changed elsewhere");
  CHECK(mine.incident_in_channel("C-web").has_value());
  mine.commit();
}

TEST_CASE("sqlite_store: incidents_since and open_incidents") {
  on_both([](sqlite_store& s) {
    // Declared out of id order, to show incidents_since sorts by time.
    s.create_incident(plain_incident("C-1", at(30)));
    s.create_incident(plain_incident("C-2", at(10)));
    auto resolved = plain_incident("C-3", at(20));
    resolved.status = core::incident_status::resolved;
    s.create_incident(resolved);
    s.create_incident(plain_incident("C-4", at(5)));

    const auto since = s.incidents_since(at(10));
    REQUIRE(since.size() == 3);
    CHECK(since[0].channel == "C-2");  // at(10): the bound is inclusive
    CHECK(since[1].channel == "C-3");
    CHECK(since[2].channel == "C-1");
    CHECK(s.incidents_since(at(31)).empty());

    const auto open = s.open_incidents();
    REQUIRE(open.size() == 3);
    CHECK(open[0].id == 1);
    CHECK(open[1].id == 2);
    CHECK(open[2].id == 4);

    auto reopened = *s.find_incident(3);
    reopened.status = core::incident_status::identified;
    s.update_incident(reopened);
    CHECK(s.open_incidents().size() == 4);
  });
}

TEST_CASE("sqlite_store: a timeline entry round-trips every field and is found by source id") {
  on_both([](sqlite_store& s) {
    const auto incident = s.create_incident(plain_incident("C-1", at(0)));
    core::timeline_entry want = message(incident, "C-1:1700000000.000100", at(3, 250), tricky);
    want.kind = core::entry_kind::note;
    want.edited = true;
    want.deleted = true;
    want.key = true;
    want.edited_at = at(4, 1);
    want.deleted_at = at(5, 2);
    const auto id = s.add_entry(want);
    CHECK(id > 0);

    const auto got = s.entry_by_source("C-1:1700000000.000100");
    REQUIRE(got.has_value());
    CHECK(got->id == id);
    check_same(*got, want);

    const auto listed = s.timeline(incident);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].id == id);
    check_same(listed[0], want);

    CHECK_FALSE(s.entry_by_source("C-1:1700000000.000999").has_value());
    CHECK_FALSE(s.entry_by_source("").has_value());
  });
}

TEST_CASE("sqlite_store: a platform message is captured once, the bot's entries need no source") {
  on_both([](sqlite_store& s) {
    const auto incident = s.create_incident(plain_incident("C-1", at(0)));
    s.add_entry(message(incident, "m1", at(1), "first"));
    const std::string error = store_error_of([&] { s.add_entry(message(incident, "m1", at(2), "again")); });
    CHECK(error.find("add_entry") != std::string::npos);
    CHECK(texts(s.timeline(incident)) == std::vector<std::string>{"first"});

    // Many entries without a source id: no unique clash, and they read back with an empty source.
    s.add_entry(bot_entry(incident, at(3), "status: identified"));
    s.add_entry(bot_entry(incident, at(4), "status: monitoring"));
    const auto all = s.timeline(incident);
    REQUIRE(all.size() == 3);
    CHECK(all[1].source_id.empty());
    CHECK(all[2].source_id.empty());
    CHECK(all[2].author == "kintsugi");
    CHECK(all[2].kind == core::entry_kind::status);
  });
}

TEST_CASE("sqlite_store: add_entry_if_new adds a platform message once and always adds the bot's entries") {
  on_both([](sqlite_store& s) {
    const auto incident = s.create_incident(plain_incident("C-1", at(0)));
    CHECK(s.add_entry_if_new(message(incident, "m1", at(1), "first")));
    CHECK_FALSE(s.add_entry_if_new(message(incident, "m1", at(2), "again")));
    CHECK(s.add_entry_if_new(message(incident, "m2", at(3), "second")));
    CHECK(s.add_entry_if_new(bot_entry(incident, at(4), "status: identified")));
    CHECK(s.add_entry_if_new(bot_entry(incident, at(4), "status: identified")));
    CHECK(texts(s.timeline(incident)) ==
          std::vector<std::string>{"first", "second", "status: identified", "status: identified"});
    CHECK(s.entry_by_source("m1")->at == at(1));
    // Only the source id's uniqueness is forgiven: an entry of an incident that does not exist is still refused.
    CHECK(store_error_of([&] { s.add_entry_if_new(message(42, "m3", at(5), "orphan")); }).find("add_entry_if_new") !=
          std::string::npos);
    CHECK_FALSE(s.entry_by_source("m3").has_value());
  });
}

TEST_CASE("sqlite_store: the timeline is in (at, id) order and `last` keeps the newest, ascending") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(0)));
    // Inserted out of time order (a backfill), with a tie at(2) broken by insertion.
    s.add_entry(message(one, "m3", at(3), "three"));
    s.add_entry(message(one, "m1", at(1), "one"));
    s.add_entry(message(one, "m2a", at(2), "two-a"));
    s.add_entry(message(two, "x1", at(2), "other incident"));
    s.add_entry(message(one, "m2b", at(2), "two-b"));
    s.add_entry(message(one, "m4", at(4), "four"));

    CHECK(texts(s.timeline(one)) == std::vector<std::string>{"one", "two-a", "two-b", "three", "four"});
    CHECK(texts(s.timeline(one, 2)) == std::vector<std::string>{"three", "four"});
    CHECK(texts(s.timeline(one, 3)) == std::vector<std::string>{"two-b", "three", "four"});
    CHECK(texts(s.timeline(one, 1)) == std::vector<std::string>{"four"});
    CHECK(texts(s.timeline(one, 5)).size() == 5);
    CHECK(texts(s.timeline(one, 100)) == std::vector<std::string>{"one", "two-a", "two-b", "three", "four"});
    CHECK(texts(s.timeline(two)) == std::vector<std::string>{"other incident"});
    CHECK(s.timeline(99).empty());
    CHECK(s.timeline(99, 3).empty());
  });
}

TEST_CASE("sqlite_store: latest_message is the newest chat message, not a bot entry nor another incident's") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(0)));
    CHECK_FALSE(s.latest_message(one).has_value());
    s.add_entry(bot_entry(one, at(1), "declared"));
    CHECK_FALSE(s.latest_message(one).has_value());
    s.add_entry(message(one, "m3", at(3), "three"));
    s.add_entry(message(one, "m1", at(1), "one"));  // backfilled after m3
    s.add_entry(message(one, "m3b", at(3), "three-b"));  // a tie: the later insertion is newer
    s.add_entry(bot_entry(one, at(5), "status: identified"));
    auto note = message(one, "n1", at(6), "a note with a source");
    note.kind = core::entry_kind::note;
    s.add_entry(note);
    s.add_entry(message(two, "x1", at(9), "other incident"));
    const auto latest = s.latest_message(one);
    REQUIRE(latest.has_value());
    CHECK(latest->source_id == "m3b");
    CHECK(latest->text == "three-b");
    // The same answer as the default, which reads the whole timeline.
    CHECK(s.kintsugi::core::store::latest_message(one)->source_id == "m3b");
    CHECK(s.latest_message(two)->source_id == "x1");
    CHECK_FALSE(s.latest_message(99).has_value());
  });
}

TEST_CASE("sqlite_store: a capture gap keeps its start when opened again and closes only as it was read") {
  on_both([](sqlite_store& s) {
    CHECK_FALSE(s.find_gap("C-1").has_value());
    s.open_gap("C-1", at(1, 7));
    s.open_gap("C-2", at(2));
    const auto first = s.find_gap("C-1");
    REQUIRE(first.has_value());
    CHECK(*first == core::capture_gap{"C-1", at(1, 7), 1});
    s.open_gap("C-1", at(9));  // the connection dropped again before the backfill filled it
    const auto again = s.find_gap("C-1");
    REQUIRE(again.has_value());
    CHECK(again->since == at(1, 7));
    CHECK(again->openings == 2);
    s.close_gap(*first);  // a backfill that read the gap before it was opened again closes nothing
    CHECK(s.find_gap("C-1").has_value());
    s.close_gap(*again);
    CHECK_FALSE(s.find_gap("C-1").has_value());
    CHECK(s.find_gap("C-2").has_value());
  });
}

TEST_CASE("capture gaps open at the newest captured message of each open incident on the platform") {
  const kintsugi::test::temp_dir dir;
  const auto path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    const auto quiet = s.create_incident(plain_incident("C-quiet", at(0)));
    const auto busy = s.create_incident(plain_incident("C-busy", at(0)));
    s.create_incident(plain_incident("mm:abc", at(0)));  // Mattermost's: another route
    auto done = plain_incident("C-done", at(0));
    done.status = core::incident_status::resolved;
    s.create_incident(done);
    s.add_entry(message(busy, "m1", at(4), "one"));
    s.add_entry(message(busy, "m2", at(7, 5), "two"));
    s.add_entry(bot_entry(busy, at(8), "status"));
    core::open_capture_gaps(s, "");
    s.add_entry(message(busy, "m3", at(12), "heard live after the gap"));
    (void)quiet;
  }
  sqlite_store s{path};  // kept across a restart
  const auto gaps = core::capture_gaps(s, "");
  REQUIRE(gaps.size() == 2);
  CHECK(gaps[0].gap == core::capture_gap{"C-quiet", at(0), 1});
  CHECK(gaps[1].gap == core::capture_gap{"C-busy", at(7, 5), 1});
  CHECK(gaps[1].declared == at(0));
  CHECK(core::capture_gaps(s, "mm").empty());  // not opened for Mattermost
  core::open_capture_gaps(s, "");  // the next connection: the start stays where the capture stopped
  CHECK(core::capture_gaps(s, "")[1].gap == core::capture_gap{"C-busy", at(7, 5), 2});
  // A gap left by an earlier incident in the channel starts no earlier than the new one's declaration.
  auto later = s.find_incident(1);
  later->status = core::incident_status::resolved;
  s.update_incident(*later);
  s.create_incident(plain_incident("C-quiet", at(30)));
  CHECK(core::capture_gaps(s, "")[1].gap.since == at(30));
}

TEST_CASE("sqlite_store: update_entry records an edit and a deletion") {
  on_both([](sqlite_store& s) {
    const auto incident = s.create_incident(plain_incident("C-1", at(0)));
    auto entry = message(incident, "m1", at(1), "db is donw");
    entry.id = s.add_entry(entry);

    entry.text = "db is down";
    entry.edited = true;
    entry.edited_at = at(2);
    entry.key = true;
    s.update_entry(entry);
    auto got = s.entry_by_source("m1");
    REQUIRE(got.has_value());
    CHECK(got->id == entry.id);
    check_same(*got, entry);

    entry.deleted = true;
    entry.deleted_at = at(3);
    s.update_entry(entry);
    got = s.entry_by_source("m1");
    REQUIRE(got.has_value());
    CHECK(got->deleted);
    CHECK(got->deleted_at == at(3));
    CHECK(got->text == "db is down");
  });
}

TEST_CASE("sqlite_store: revisions by entry and by incident") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(0)));
    const auto late = s.add_entry(message(one, "m2", at(5), "later message"));
    const auto early = s.add_entry(message(one, "m1", at(1), "early message"));
    const auto other = s.add_entry(message(two, "x1", at(1), "elsewhere"));

    s.add_revision({late, at(7, 1), "later v2"});
    s.add_revision({late, at(6, 1), "later v1"});
    s.add_revision({early, at(2, 5), tricky});
    s.add_revision({other, at(3), "elsewhere v1"});

    const auto of_late = s.revisions(late);
    REQUIRE(of_late.size() == 2);
    CHECK(of_late[0].entry_id == late);
    CHECK(of_late[0].replaced_at == at(6, 1));
    CHECK(of_late[0].text == "later v1");
    CHECK(of_late[1].replaced_at == at(7, 1));
    CHECK(of_late[1].text == "later v2");

    const auto of_one = s.revisions_of_incident(one);
    REQUIRE(of_one.size() == 3);
    CHECK(of_one[0].entry_id == early);  // the earlier entry in the timeline comes first
    CHECK(of_one[0].text == tricky);
    CHECK(of_one[0].replaced_at == at(2, 5));
    CHECK(of_one[1].entry_id == late);
    CHECK(of_one[1].text == "later v1");
    CHECK(of_one[2].text == "later v2");

    const auto of_two = s.revisions_of_incident(two);
    REQUIRE(of_two.size() == 1);
    CHECK(of_two[0].entry_id == other);
    CHECK(s.revisions(9999).empty());
  });
}

TEST_CASE("sqlite_store: whys, factors and lessons round-trip per incident") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(0)));

    const auto w1 = s.add_why({0, one, 1, "Why did checkout fail? " + tricky, "U-alice", at(10, 1)});
    const auto w2 = s.add_why({0, one, 2, "Why were connections exhausted?", "U-bob", at(11, 2)});
    s.add_why({0, two, 1, "elsewhere", "U-carol", at(12)});
    // Position 0: the next one of that incident.
    const auto w3 = s.add_why({0, one, 0, "Why was there no limit?", "U-carol", at(13)});
    const auto whys = s.whys(one);
    REQUIRE(whys.size() == 3);
    CHECK(whys[0].id == w1);
    CHECK(whys[0].incident_id == one);
    CHECK(whys[0].position == 1);
    CHECK(whys[0].text == "Why did checkout fail? " + tricky);
    CHECK(whys[0].author == "U-alice");
    CHECK(whys[0].at == at(10, 1));
    CHECK(whys[1].id == w2);
    CHECK(whys[1].position == 2);
    CHECK(whys[2].id == w3);
    CHECK(whys[2].position == 3);
    CHECK(whys[2].author == "U-carol");
    CHECK(s.whys(two).size() == 1);
    // Two whys cannot share a position.
    CHECK_FALSE(store_error_of([&] { s.add_why({0, one, 2, "dup", "U-x", at(14)}); }).empty());

    const auto f1 = s.add_factor({0, one, core::factor_kind::process, "No load test " + tricky, "U-bob", at(20, 3)});
    const auto f2 = s.add_factor({0, one, core::factor_kind::external, "Provider outage", "U-alice", at(21)});
    s.add_factor({0, two, core::factor_kind::people, "elsewhere", "U-x", at(22)});
    const auto factors = s.factors(one);
    REQUIRE(factors.size() == 2);
    CHECK(factors[0].id == f1);
    CHECK(factors[0].incident_id == one);
    CHECK(factors[0].kind == core::factor_kind::process);
    CHECK(factors[0].text == "No load test " + tricky);
    CHECK(factors[0].author == "U-bob");
    CHECK(factors[0].at == at(20, 3));
    CHECK(factors[1].id == f2);
    CHECK(factors[1].kind == core::factor_kind::external);
    CHECK(s.factors(two).size() == 1);
    CHECK(s.factors(two)[0].kind == core::factor_kind::people);

    const auto l1 = s.add_lesson({0, one, core::lesson_kind::slowed, "Dashboards lagged " + tricky, "U-carol", at(30, 4)});
    const auto l2 = s.add_lesson({0, one, core::lesson_kind::knowledge, "Pool size is per pod", "U-bob", at(31)});
    const auto lessons = s.lessons(one);
    REQUIRE(lessons.size() == 2);
    CHECK(lessons[0].id == l1);
    CHECK(lessons[0].incident_id == one);
    CHECK(lessons[0].kind == core::lesson_kind::slowed);
    CHECK(lessons[0].text == "Dashboards lagged " + tricky);
    CHECK(lessons[0].author == "U-carol");
    CHECK(lessons[0].at == at(30, 4));
    CHECK(lessons[1].id == l2);
    CHECK(lessons[1].kind == core::lesson_kind::knowledge);
    CHECK(s.lessons(two).empty());
  });
}

TEST_CASE("sqlite_store: action items have global ids and round-trip every field") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(100)));

    CHECK(s.add_action(simple_action(one, "a")) == 1);
    CHECK(s.add_action(simple_action(two, "b")) == 2);
    const core::action_item want = full_action(one);
    CHECK(s.add_action(want) == 3);
    CHECK(s.add_action(simple_action(two, "d")) == 4);

    const auto got = s.find_action(3);
    REQUIRE(got.has_value());
    CHECK(got->id == 3);
    check_same(*got, want);

    const auto plain = s.find_action(1);
    REQUIRE(plain.has_value());
    check_same(*plain, simple_action(one, "a"));
    CHECK_FALSE(plain->due.has_value());
    CHECK_FALSE(plain->closed_at.has_value());
    CHECK_FALSE(plain->snoozed_until.has_value());
    CHECK_FALSE(plain->fix_held.has_value());
    CHECK(plain->status == core::action_status::open);
    CHECK(plain->kind == core::action_kind::fix);
    CHECK_FALSE(s.find_action(5).has_value());

    CHECK(ids(s.actions_of(one)) == std::vector<core::id_t>{1, 3});
    CHECK(ids(s.actions_of(two)) == std::vector<core::id_t>{2, 4});
    CHECK(ids(s.open_actions()) == std::vector<core::id_t>{1, 2, 4});  // 3 is done
    CHECK(ids(s.actions_since(at(100))) == std::vector<core::id_t>{2, 4});
    CHECK(ids(s.actions_since(at(0))) == std::vector<core::id_t>{1, 2, 3, 4});

    // Update: close one, reopen another with a new owner, due date and snooze.
    auto close = *s.find_action(1);
    close.status = core::action_status::dropped;
    close.closed_at = at(200);
    s.update_action(close);
    auto reopen = *s.find_action(3);
    reopen.status = core::action_status::open;
    reopen.closed_at.reset();
    reopen.owner = "U-frank";
    reopen.due = core::date{std::chrono::year{2027} / 2 / 28};
    reopen.snoozed_until = at(300);
    reopen.kind = core::action_kind::process;
    s.update_action(reopen);
    check_same(*s.find_action(1), close);
    check_same(*s.find_action(3), reopen);
    CHECK(ids(s.open_actions()) == std::vector<core::id_t>{2, 3, 4});
  });
}

TEST_CASE("sqlite_store: users are inserted and then updated") {
  on_both([](sqlite_store& s) {
    s.upsert_user({"U-alice", "Alice " + tricky, "Europe/Berlin"});
    s.upsert_user({"U-bob", "", ""});
    auto alice = s.find_user("U-alice");
    REQUIRE(alice.has_value());
    CHECK(alice->id == "U-alice");
    CHECK(alice->display_name == "Alice " + tricky);
    CHECK(alice->tz == "Europe/Berlin");

    s.upsert_user({"U-alice", "Alice L.", "America/New_York"});
    alice = s.find_user("U-alice");
    REQUIRE(alice.has_value());
    CHECK(alice->display_name == "Alice L.");
    CHECK(alice->tz == "America/New_York");

    const auto bob = s.find_user("U-bob");
    REQUIRE(bob.has_value());
    CHECK(bob->display_name.empty());
    CHECK(bob->tz.empty());
    CHECK_FALSE(s.find_user("U-nobody").has_value());
  });
}

TEST_CASE("sqlite_store: latest_document is the version saved last") {
  on_both([](sqlite_store& s) {
    const auto one = s.create_incident(plain_incident("C-1", at(0)));
    const auto two = s.create_incident(plain_incident("C-2", at(0)));
    const auto first = s.save_document({0, one, at(60, 1), "# INC-1 v1"});
    s.save_document({0, two, at(61), "# INC-2"});
    const auto second = s.save_document({0, one, at(62, 2), "# INC-1 v2\n" + tricky});
    CHECK(second > first);
    const auto latest = s.latest_document(one);
    REQUIRE(latest.has_value());
    CHECK(latest->id == second);
    CHECK(latest->incident_id == one);
    CHECK(latest->written_at == at(62, 2));
    CHECK(latest->markdown == "# INC-1 v2\n" + tricky);
    CHECK(s.latest_document(two)->markdown == "# INC-2");
    CHECK_FALSE(s.latest_document(3).has_value());
  });
}

TEST_CASE("sqlite_store: the outbox round-trips every action type") {
  on_both([](sqlite_store& s) {
    const core::actions sent = {
        core::post_message{"C-1", "Incident INC-1 declared " + tricky},
        core::post_ephemeral{"C-1", "U-alice", "Unknown command"},
        core::direct_message{"U-bob", "Action 3 is due tomorrow"},
        core::create_channel{"inc-1-db-down"},
        core::invite_user{"C-1", "U-carol"},
        core::set_topic{"C-1", "INC-1 sev1 · investigating"},
        core::publish_document{"C-1", "INC-1.md", "# INC-1\n\n" + tricky},
    };
    for (std::size_t i = 0; i < sent.size(); ++i) s.enqueue(sent[i], at(static_cast<int>(i), 5));

    const auto items = s.pending(100);
    REQUIRE(items.size() == sent.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      CAPTURE(i);
      CHECK(items[i].what.index() == sent[i].index());
      CHECK(items[i].queued_at == at(static_cast<int>(i), 5));
      CHECK(items[i].attempts == 0);
    }
    const auto& post = std::get<core::post_message>(items[0].what);
    CHECK(post.channel == "C-1");
    CHECK(post.text == "Incident INC-1 declared " + tricky);
    const auto& ephemeral = std::get<core::post_ephemeral>(items[1].what);
    CHECK(ephemeral.channel == "C-1");
    CHECK(ephemeral.user == "U-alice");
    CHECK(ephemeral.text == "Unknown command");
    const auto& dm = std::get<core::direct_message>(items[2].what);
    CHECK(dm.user == "U-bob");
    CHECK(dm.text == "Action 3 is due tomorrow");
    CHECK(std::get<core::create_channel>(items[3].what).name == "inc-1-db-down");
    const auto& invite = std::get<core::invite_user>(items[4].what);
    CHECK(invite.channel == "C-1");
    CHECK(invite.user == "U-carol");
    const auto& topic = std::get<core::set_topic>(items[5].what);
    CHECK(topic.channel == "C-1");
    CHECK(topic.text == "INC-1 sev1 · investigating");
    const auto& doc = std::get<core::publish_document>(items[6].what);
    CHECK(doc.channel == "C-1");
    CHECK(doc.filename == "INC-1.md");
    CHECK(doc.content == "# INC-1\n\n" + tricky);
  });
}

TEST_CASE("sqlite_store: text that is not valid UTF-8 is queued with a replacement character") {
  on_both([](sqlite_store& s) {
    s.enqueue(core::post_message{"C", "cut off \xE2\x82"}, at(0));
    const auto items = s.pending(1);
    REQUIRE(items.size() == 1);
    CHECK(std::get<core::post_message>(items[0].what).text == "cut off \xEF\xBF\xBD");
  });
}

TEST_CASE("sqlite_store: the outbox round-trips the buttons of posts, ephemerals and direct messages") {
  on_both([](sqlite_store& s) {
    const std::vector<core::button> roles{{"I'll be commander", "role commander me", "primary"},
                                          {"I'll be scribe", "role scribe me", ""}};
    const std::vector<core::button> owner{{"Mark done", "action done 3", "primary"},
                                          {"Snooze " + tricky, "action snooze 3 1d", "danger"}};
    s.enqueue(core::post_message{"C-1", "Who takes the roles?", roles}, at(0));
    s.enqueue(core::post_ephemeral{"C-1", "U-alice", "Only for you", {{"Write the postmortem", "postmortem", ""}}}, at(1));
    s.enqueue(core::direct_message{"U-bob", "You own action #3", owner}, at(2));
    s.enqueue(core::post_message{"C-1", "no buttons"}, at(3));

    const auto items = s.pending(10);
    REQUIRE(items.size() == 4);
    const auto& post = std::get<core::post_message>(items[0].what);
    CHECK(post.text == "Who takes the roles?");
    CHECK(post.buttons == roles);
    const auto& ephemeral = std::get<core::post_ephemeral>(items[1].what);
    CHECK(ephemeral.user == "U-alice");
    CHECK(ephemeral.buttons == std::vector<core::button>{{"Write the postmortem", "postmortem", ""}});
    const auto& dm = std::get<core::direct_message>(items[2].what);
    CHECK(dm.user == "U-bob");
    CHECK(dm.buttons == owner);
    CHECK(std::get<core::post_message>(items[3].what).buttons.empty());
  });
}

TEST_CASE("sqlite_store: outbox rows without buttons are written as before and still load") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    s.enqueue(core::direct_message{"U-bob", "plain"}, at(0));
    s.enqueue(core::direct_message{"U-bob", "with", {{"Mark done", "action done 1", ""}}}, at(1));
  }
  std::vector<std::string> rows;
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    SQLite::Statement q(raw, "SELECT action FROM outbox ORDER BY id");
    while (q.executeStep()) rows.push_back(q.getColumn(0).getString());
    // A row as a build before buttons wrote it.
    raw.exec(R"(INSERT INTO outbox (action, queued_at) SELECT '{"type":"post_ephemeral","channel":"C","user":"U","text":"old"}', queued_at FROM outbox LIMIT 1)");
  }
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == R"({"text":"plain","type":"direct_message","user":"U-bob"})");
  CHECK(rows[1] == R"({"buttons":[{"command":"action done 1","label":"Mark done"}],"text":"with","type":"direct_message","user":"U-bob"})");

  sqlite_store s{path};
  const auto items = s.pending(10);
  REQUIRE(items.size() == 3);
  const auto& old = std::get<core::post_ephemeral>(items[2].what);
  CHECK(old.text == "old");
  CHECK(old.buttons.empty());
}

TEST_CASE("sqlite_store: malformed buttons in the outbox are a store_error") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  { sqlite_store s{path}; s.enqueue(core::post_message{"C", "x"}, at(0)); }
  const auto set = [&path](const std::string& action) {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    SQLite::Statement q(raw, "UPDATE outbox SET action = ?");
    q.bind(1, action);
    q.exec();
  };
  SUBCASE("not an array") {
    set(R"({"type":"post_message","channel":"C","text":"x","buttons":{}})");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("buttons") != std::string::npos);
  }
  SUBCASE("a button without a command") {
    set(R"({"type":"post_message","channel":"C","text":"x","buttons":[{"label":"Go"}]})");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("command") != std::string::npos);
  }
  SUBCASE("a style that is not a string") {
    set(R"({"type":"post_message","channel":"C","text":"x","buttons":[{"label":"Go","command":"help","style":1}]})");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("style") != std::string::npos);
  }
}

TEST_CASE("sqlite_store: the outbox round-trips a post's pin and pin_message") {
  on_both([](sqlite_store& s) {
    s.enqueue(core::post_message{"C-1", "🚨 INC-1 header", {{"I'll be commander", "role commander me", "primary"}}, true},
              at(0));
    s.enqueue(core::post_message{"C-1", "not pinned"}, at(1));
    s.enqueue(core::pin_message{"C-1:1700000000.000100"}, at(2));

    const auto items = s.pending(10);
    REQUIRE(items.size() == 3);
    const auto& header = std::get<core::post_message>(items[0].what);
    CHECK(header.pin);
    CHECK(header.buttons.size() == 1);
    CHECK_FALSE(std::get<core::post_message>(items[1].what).pin);
    CHECK(std::get<core::pin_message>(items[2].what).message_id == "C-1:1700000000.000100");
  });
}

TEST_CASE("sqlite_store: outbox rows write pin only when set, and rows without it load unpinned") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    s.enqueue(core::post_message{"C", "plain"}, at(0));
    s.enqueue(core::post_message{"C", "header", {}, true}, at(1));
    s.enqueue(core::pin_message{"C:1.2"}, at(2));
  }
  std::vector<std::string> rows;
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    SQLite::Statement q(raw, "SELECT action FROM outbox ORDER BY id");
    while (q.executeStep()) rows.push_back(q.getColumn(0).getString());
  }
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == R"({"channel":"C","text":"plain","type":"post_message"})");
  CHECK(rows[1] == R"({"channel":"C","pin":true,"text":"header","type":"post_message"})");
  CHECK(rows[2] == R"({"message_id":"C:1.2","type":"pin_message"})");

  SUBCASE("pin that is not a boolean") {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(R"(UPDATE outbox SET action = '{"type":"post_message","channel":"C","text":"x","pin":"yes"}' WHERE id = 1)");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("pin") != std::string::npos);
  }
  SUBCASE("pin_message without its id") {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(R"(UPDATE outbox SET action = '{"type":"pin_message"}' WHERE id = 3)");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("message_id") != std::string::npos);
  }
}

TEST_CASE("sqlite_store: pending is oldest first and unsent only, mark_sent and failed attempts") {
  on_both([](sqlite_store& s) {
    const auto a = s.enqueue(core::post_message{"C", "a"}, at(0));
    const auto b = s.enqueue(core::post_message{"C", "b"}, at(1));
    const auto c = s.enqueue(core::post_message{"C", "c"}, at(2));
    CHECK(a < b);
    CHECK(b < c);

    auto two = s.pending(2);
    REQUIRE(two.size() == 2);
    CHECK(two[0].id == a);
    CHECK(two[1].id == b);
    CHECK(s.pending(0).empty());

    s.mark_failed_attempt(a);
    s.mark_failed_attempt(a);
    s.mark_sent(b, at(3));
    auto left = s.pending(10);
    REQUIRE(left.size() == 2);
    CHECK(left[0].id == a);
    CHECK(left[0].attempts == 2);
    CHECK(std::get<core::post_message>(left[0].what).text == "a");
    CHECK(left[1].id == c);
    CHECK(left[1].attempts == 0);

    s.mark_sent(b, at(4));  // again: harmless
    s.mark_sent(a, at(5));
    s.mark_sent(c, at(5));
    CHECK(s.pending(10).empty());

    // Ids are not reused after everything was sent.
    const auto d = s.enqueue(core::direct_message{"U", "d"}, at(6));
    CHECK(d > c);
    REQUIRE(s.pending(10).size() == 1);
    CHECK(s.pending(10)[0].id == d);
  });
}

TEST_CASE("sqlite_store: commit keeps and rollback discards a transaction's work") {
  on_both([](sqlite_store& s) {
    s.begin();
    s.create_incident(plain_incident("C-kept", at(0)));
    s.remember_event("kept", at(0));
    s.commit();

    s.begin();
    s.create_incident(plain_incident("C-gone", at(1)));
    s.remember_event("gone", at(1));
    s.enqueue(core::post_message{"C", "gone"}, at(1));
    s.rollback();

    CHECK(s.find_incident(1)->channel == "C-kept");
    CHECK_FALSE(s.incident_in_channel("C-gone").has_value());
    CHECK_FALSE(s.remember_event("kept", at(2)));
    CHECK(s.remember_event("gone", at(2)));  // a redelivery after a failed handling is handled again
    CHECK(s.pending(10).empty());

    // Outside a transaction rollback has nothing to do; commit is a caller's bug.
    CHECK_NOTHROW(s.rollback());
    CHECK_FALSE(store_error_of([&] { s.commit(); }).empty());
  });
}

TEST_CASE("sqlite_store: a savepoint rollback keeps earlier work of the same transaction") {
  on_both([](sqlite_store& s) {
    s.begin();
    const auto incident = s.create_incident(plain_incident("C-1", at(0)));

    // Event 1 of the batch: handled.
    s.savepoint();
    CHECK(s.remember_event("e1", at(1)));
    s.add_entry(message(incident, "e1", at(1), "first"));
    s.release_savepoint();

    // Event 2: its handling fails half-way and is undone alone.
    s.savepoint();
    CHECK(s.remember_event("e2", at(2)));
    s.add_entry(message(incident, "e2", at(2), "second"));
    s.enqueue(core::post_message{"C-1", "never"}, at(2));
    s.rollback_to_savepoint();
    // No savepoint lingers: there is nothing left to release.
    CHECK_FALSE(store_error_of([&] { s.release_savepoint(); }).empty());

    // Event 3: handled after the rollback, inside the same transaction.
    s.savepoint();
    CHECK(s.remember_event("e3", at(3)));
    s.add_entry(message(incident, "e3", at(3), "third"));
    s.release_savepoint();
    s.commit();

    CHECK(texts(s.timeline(incident)) == std::vector<std::string>{"first", "third"});
    CHECK_FALSE(s.remember_event("e1", at(4)));
    CHECK(s.remember_event("e2", at(4)));
    CHECK_FALSE(s.remember_event("e3", at(4)));
    CHECK(s.pending(10).empty());
    CHECK(s.find_incident(incident).has_value());
  });
}

TEST_CASE("sqlite_store: transaction_open is true from begin to commit or rollback") {
  on_both([](sqlite_store& s) {
    CHECK_FALSE(s.transaction_open());
    s.begin();
    CHECK(s.transaction_open());
    s.savepoint();
    s.rollback_to_savepoint();
    CHECK(s.transaction_open());
    s.commit();
    CHECK_FALSE(s.transaction_open());
    s.begin();
    s.rollback();
    CHECK_FALSE(s.transaction_open());
  });
}

TEST_CASE("sqlite_store: nested savepoints unwind one level at a time") {
  on_both([](sqlite_store& s) {
    s.begin();
    s.savepoint();
    s.remember_event("outer", at(0));
    s.savepoint();
    s.remember_event("inner", at(0));
    s.rollback_to_savepoint();  // undoes "inner" only
    s.release_savepoint();      // the outer one is still there
    s.commit();
    CHECK_FALSE(s.remember_event("outer", at(1)));
    CHECK(s.remember_event("inner", at(1)));
  });
}

TEST_CASE("sqlite_store: core::transaction rolls back unless committed") {
  on_both([](sqlite_store& s) {
    {
      core::transaction tx(s);
      s.create_incident(plain_incident("C-dropped", at(0)));
    }
    CHECK_FALSE(s.incident_in_channel("C-dropped").has_value());
    {
      core::transaction tx(s);
      s.create_incident(plain_incident("C-kept", at(0)));
      tx.commit();
    }
    CHECK(s.incident_in_channel("C-kept").has_value());
  });
}

TEST_CASE("sqlite_store: updates of rows that do not exist are store_errors") {
  on_both([](sqlite_store& s) {
    core::incident i = plain_incident("C", at(0));
    i.id = 42;
    CHECK(store_error_of([&] { s.update_incident(i); }).find("no incident 42") != std::string::npos);
    core::timeline_entry e = bot_entry(1, at(0), "x");
    e.id = 42;
    CHECK_FALSE(store_error_of([&] { s.update_entry(e); }).empty());
    core::action_item a = simple_action(1, "x");
    a.id = 42;
    CHECK_FALSE(store_error_of([&] { s.update_action(a); }).empty());
    CHECK_FALSE(store_error_of([&] { s.mark_sent(42, at(0)); }).empty());
    CHECK_FALSE(store_error_of([&] { s.mark_failed_attempt(42); }).empty());
    // Foreign keys are on: an entry of an incident that does not exist is refused.
    CHECK_FALSE(store_error_of([&] { s.add_entry(bot_entry(42, at(0), "orphan")); }).empty());
    CHECK_FALSE(store_error_of([&] { s.add_action(simple_action(42, "orphan")); }).empty());
  });
}

TEST_CASE("sqlite_store: data survives closing and reopening the file") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  const core::incident incident = full_incident();
  const core::action_item action = full_action(1);
  core::timeline_entry entry = message(1, "m1", at(1, 9), tricky);
  entry.key = true;
  {
    sqlite_store s{path};
    s.begin();
    CHECK(s.remember_event("m1", at(1)));
    CHECK(s.create_incident(incident) == 1);
    s.add_entry(entry);
    s.add_revision({1, at(2), "before"});
    s.add_why({0, 1, 1, "why?", "U-a", at(3)});
    s.add_factor({0, 1, core::factor_kind::technology, "factor", "U-a", at(3)});
    s.add_lesson({0, 1, core::lesson_kind::helped, "lesson", "U-a", at(3)});
    s.add_action(action);
    s.upsert_user({"U-a", "A", "UTC"});
    s.save_document({0, 1, at(4), "# doc"});
    s.enqueue(core::set_topic{"C-inc-1", "topic"}, at(5));
    s.commit();
  }
  {
    // The file is in WAL mode, which persists in the file itself.
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
  }
  sqlite_store s{path};
  CHECK_FALSE(s.remember_event("m1", at(6)));
  const auto got = s.find_incident(1);
  REQUIRE(got.has_value());
  check_same(*got, incident);
  const auto timeline = s.timeline(1);
  REQUIRE(timeline.size() == 1);
  check_same(timeline[0], entry);
  REQUIRE(s.revisions(1).size() == 1);
  CHECK(s.revisions(1)[0].text == "before");
  CHECK(s.whys(1).size() == 1);
  CHECK(s.factors(1).size() == 1);
  CHECK(s.lessons(1).size() == 1);
  REQUIRE(s.find_action(1).has_value());
  check_same(*s.find_action(1), action);
  CHECK(s.find_user("U-a")->display_name == "A");
  CHECK(s.latest_document(1)->markdown == "# doc");
  const auto pending = s.pending(10);
  REQUIRE(pending.size() == 1);
  CHECK(std::get<core::set_topic>(pending[0].what).text == "topic");
  // Ids go on from where they were.
  CHECK(s.create_incident(plain_incident("C-2", at(7))) == 2);
  CHECK(s.add_action(simple_action(2, "next")) == 2);
}

TEST_CASE("sqlite_store: migrations run once, opening again changes nothing") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  const auto schema_of = [&path] {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY name");
    std::string out;
    while (q.executeStep()) out += q.getColumn(0).getString() + "\n";
    return out;
  };
  {
    sqlite_store first{path};
    first.create_incident(plain_incident("C-1", at(0)));
    // A second connection while the first is open: nothing left to migrate.
    sqlite_store second{path};
    CHECK(second.schema_version() == sqlite_store::latest_schema_version());
    CHECK(second.find_incident(1)->channel == "C-1");
  }
  const std::string schema = schema_of();
  CHECK(schema.find("table incidents") != std::string::npos);
  CHECK(schema.find("index timeline_by_source") != std::string::npos);
  {
    sqlite_store again{path};
    CHECK(again.schema_version() == sqlite_store::latest_schema_version());
    CHECK(again.find_incident(1)->channel == "C-1");
    CHECK_FALSE(again.find_incident(2).has_value());
  }
  CHECK(schema_of() == schema);
}

TEST_CASE("sqlite_store: a database newer than this build is refused") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  { sqlite_store s{path}; }
  const int newer = sqlite_store::latest_schema_version() + 1;
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " + std::to_string(newer));
  }
  const std::string error = store_error_of([&] { sqlite_store s{path}; });
  CHECK(error.find("newer") != std::string::npos);
  CHECK(error.find("schema version " + std::to_string(newer)) != std::string::npos);
  {
    // Refused without touching it.
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("PRAGMA user_version").getInt() == newer);
  }
}

TEST_CASE("sqlite_store: a file that is not a database is refused and left alone") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("notes.txt");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "these are meeting notes, not a database\n";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  const std::string error = store_error_of([&] { sqlite_store s{path}; });
  CHECK(error.find("not a kintsugi database") != std::string::npos);
  CHECK(error.find(path) != std::string::npos);
  CHECK(file_contents(path) == text);
}

TEST_CASE("sqlite_store: another application's SQLite database is refused") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("other.db");
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE recipes (name TEXT)");
  }
  CHECK(store_error_of([&] { sqlite_store s{path}; }).find("not a kintsugi database") != std::string::npos);
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA application_id = 42");
    raw.exec("DROP TABLE recipes");
  }
  CHECK(store_error_of([&] { sqlite_store s{path}; }).find("application_id 42") != std::string::npos);
}

TEST_CASE("sqlite_store: a file's WAL is checkpointed in the background and then written from its start again") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  sqlite_store s{path};
  CHECK(s.wal_checkpoints().passes == 0);
  const auto incident = s.create_incident(plain_incident("C-1", at(0)));
  // ~4.5 MB in one commit: past the 1000 pages (4 MB) that call for a checkpoint.
  const std::string text(3000, 'x');
  auto write_batch = [&](int first) {
    s.begin();
    for (int i = first; i < first + 1500; ++i) s.add_entry_if_new(message(incident, "m" + std::to_string(i), at(1), text));
    s.commit();
  };
  write_batch(0);
  const auto report = s.wal_checkpoints(1, std::chrono::minutes{1});
  REQUIRE(report.passes >= 1);
  CHECK(report.frames >= 1000);  // it saw the WAL (a connection that never read the file sees none: -1)
  CHECK(report.copied == report.frames);
  const auto wal_size = std::filesystem::file_size(path + "-wal");
  // Everything was copied, so the next commit rewinds the WAL instead of growing it.
  write_batch(1500);
  CHECK(std::filesystem::file_size(path + "-wal") <= wal_size + 64 * 1024);
  CHECK(s.timeline(incident).size() == 3000);
}

TEST_CASE("sqlite_store: a path that cannot be opened is a store_error") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("missing/dir/kintsugi.db");
  const std::string error = store_error_of([&] { sqlite_store s{path}; });
  // The message names the operation, the path and SQLite's reason.
  CHECK(error.find("storage: open '" + path + "'") == 0);
  CHECK(error.find("unable to open") != std::string::npos);
}

TEST_CASE("sqlite_store: bad data in the file is a store_error, not a crash") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    s.create_incident(plain_incident("C-1", at(0)));
    s.add_entry(message(1, "m1", at(1), "hello"));
    auto a = simple_action(1, "x");
    a.due = core::date{std::chrono::year{2026} / 12 / 1};
    s.add_action(a);
    s.add_factor({0, 1, core::factor_kind::process, "f", "U", at(2)});
    s.enqueue(core::post_message{"C", "ok"}, at(3));
  }
  const auto corrupt = [&path](const std::string& sql) {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec(sql);
  };

  SUBCASE("an unknown severity") {
    corrupt("UPDATE incidents SET severity = 'sev9'");
    sqlite_store s{path};
    const std::string error = store_error_of([&] { s.find_incident(1); });
    CHECK(error.find("sev9") != std::string::npos);
    CHECK(error.find("severity") != std::string::npos);
    CHECK_FALSE(store_error_of([&] { s.incident_in_channel("C-1"); }).empty());
    CHECK_FALSE(store_error_of([&] { s.open_incidents(); }).empty());
  }
  SUBCASE("an unknown entry kind") {
    corrupt("UPDATE timeline_entries SET kind = 'telegram'");
    sqlite_store s{path};
    CHECK_FALSE(store_error_of([&] { s.timeline(1); }).empty());
    CHECK_FALSE(store_error_of([&] { s.entry_by_source("m1"); }).empty());
  }
  SUBCASE("an invalid due date") {
    corrupt("UPDATE action_items SET due = '2026-02-30'");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.find_action(1); }).find("2026-02-30") != std::string::npos);
  }
  SUBCASE("an unknown factor kind") {
    corrupt("UPDATE factors SET kind = 'luck'");
    sqlite_store s{path};
    CHECK_FALSE(store_error_of([&] { s.factors(1); }).empty());
  }
  SUBCASE("an outbox item that is not JSON") {
    corrupt("UPDATE outbox SET action = '{not json'");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("not JSON") != std::string::npos);
  }
  SUBCASE("an outbox item of an unknown type") {
    corrupt(R"(UPDATE outbox SET action = '{"type":"fax","number":"1"}')");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("fax") != std::string::npos);
  }
  SUBCASE("an outbox item with a missing field") {
    corrupt(R"(UPDATE outbox SET action = '{"type":"post_message","channel":"C"}')");
    sqlite_store s{path};
    CHECK(store_error_of([&] { s.pending(10); }).find("text") != std::string::npos);
  }
}

// Not run by default (timing depends on the machine): --no-skip -tc="*group commit*".
TEST_CASE("sqlite_store: group commit throughput" * doctest::skip()) {
  const kintsugi::test::temp_dir dir;
  sqlite_store s{dir.file("bench.db")};
  const auto incident = s.create_incident(plain_incident("C-bench", at(0)));
  constexpr int events = 50000;
  constexpr int batch = 500;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < events; i += batch) {
    s.begin();
    for (int j = i; j < i + batch; ++j) {
      s.savepoint();
      const std::string key = "C-bench:" + std::to_string(1700000000000000 + j);
      if (s.remember_event(key, at(0, j))) {
        const auto found = s.incident_in_channel("C-bench");
        REQUIRE(found.has_value());
        s.add_entry(message(incident, key, at(0, j), "message text of a typical length, say sixty chars"));
      }
      s.release_savepoint();
    }
    s.commit();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  MESSAGE("captured " << events << " events in " << took.count() << " s: " << events / took.count() << " events/s");
  CHECK(s.timeline(incident, 1)[0].source_id == "C-bench:" + std::to_string(1700000000000000 + events - 1));
}

TEST_CASE("sqlite_store: pending_on gives each platform its own items, in order, through an index") {
  const kintsugi::test::temp_dir dir;
  const std::string path = dir.file("kintsugi.db");
  {
    sqlite_store s{path};
    s.enqueue(core::post_message{"C1", "slack one"}, at(0));
    s.enqueue(core::post_message{"mm:ch1", "mattermost one"}, at(1));
    s.enqueue(core::direct_message{"mm:u1", "mattermost dm"}, at(2));
    s.enqueue(core::direct_message{"U1", "slack dm"}, at(3));
    auto mm = s.pending_on("mm", 10);
    REQUIRE(mm.size() == 2);
    CHECK(std::get<core::post_message>(mm[0].what).text == "mattermost one");
    CHECK(std::get<core::direct_message>(mm[1].what).text == "mattermost dm");
    auto first = s.pending_on("", 10);
    REQUIRE(first.size() == 2);
    CHECK(std::get<core::post_message>(first[0].what).text == "slack one");
    CHECK(std::get<core::direct_message>(first[1].what).text == "slack dm");
    CHECK(s.pending_on("mm", 1).size() == 1);
    CHECK(s.pending_on("mm", 0).empty());
    CHECK(s.pending_on("xx", 10).empty());
    // Sent items leave their route's queue; everything is still in pending() across routes.
    s.mark_sent(mm[0].id, at(5));
    CHECK(s.pending_on("mm", 10).size() == 1);
    CHECK(s.pending(10).size() == 3);
  }
  SQLite::Database raw(path, SQLite::OPEN_READONLY);
  SQLite::Statement plan(raw, "EXPLAIN QUERY PLAN SELECT id, action, queued_at, attempts FROM outbox "
                              "WHERE sent_at IS NULL AND route = 'mm' ORDER BY id LIMIT 5");
  std::string steps;
  while (plan.executeStep()) steps += plan.getColumn(3).getString() + "\n";
  CHECK(steps.find("outbox_pending_by_route") != std::string::npos);
  CHECK(steps.find("TEMP B-TREE") == std::string::npos);
}

TEST_CASE("sqlite_store: channel names are upserted and found by id") {
  on_both([](sqlite_store& s) {
    CHECK_FALSE(s.find_channel("C1").has_value());
    s.upsert_channel(core::channel_info{"C1", "inc-db"});
    REQUIRE(s.find_channel("C1").has_value());
    CHECK(s.find_channel("C1")->name == "inc-db");
    s.upsert_channel(core::channel_info{"C1", "inc-db-2"});
    CHECK(s.find_channel("C1")->name == "inc-db-2");
    s.upsert_channel(core::channel_info{"mm:abc", tricky});
    CHECK(s.find_channel("mm:abc")->name == tricky);
  });
}
