#include "core/postmortem.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/record.hpp"
#include "fake_store.hpp"
#include "record_builders.hpp"

using namespace kintsugi::core;
using namespace kintsugi::test::records;

namespace {

// An incident with every section filled, no blame words.
incident_record full_record() {
  incident_record r;
  r.inc = failover_incident();
  incident& i = r.inc;
  i.status = incident_status::resolved;
  i.at(milestone::mitigated) = nov20(10, 30);
  i.at(milestone::resolved) = nov20(11, 15);
  i.holder(role::scribe) = "U2";
  i.summary = "The primary stopped answering and the failover waited on a lock.";
  i.impact = "Checkout failed for 35 minutes.";
  i.review_at = at(2026, 11, 23, 15, 0);

  r.entries.push_back(entry(1, nov20(10, 0, 5), "U1", "Primary is not answering"));
  auto edited = entry(2, nov20(10, 1, 0), "U2", "restarted the replica");
  edited.edited = true;
  edited.edited_at = nov20(10, 1, 30);
  r.entries.push_back(edited);
  r.entries.push_back(entry(3, nov20(10, 2, 0), std::string(bot_author), "Status: identified", entry_kind::status));
  auto note = entry(4, nov20(10, 3, 0), "U2", "Failover started", entry_kind::note);
  note.key = true;
  r.entries.push_back(note);
  auto gone = entry(5, nov20(10, 4, 0), "U3", "oops wrong channel");
  gone.deleted = true;
  gone.deleted_at = nov20(10, 6, 0);
  r.entries.push_back(gone);
  r.revisions.push_back({2, nov20(10, 1, 30), "restartd the replica"});
  r.revisions.push_back({2, nov20(10, 1, 10), "restarted teh replica"});  // older, listed second on purpose

  r.whys.push_back({1, 7, 1, "The failover waited for a lock held by a long migration.", "U1", nov20(12, 0)});
  r.whys.push_back({2, 7, 2, "The migration ran in one transaction.", "U2", nov20(12, 1)});

  r.factors.push_back({1, 7, factor_kind::technology, "Replica lag was not alerted on", "U1", nov20(12, 2)});
  r.factors.push_back({2, 7, factor_kind::process, "The runbook has no failover drill", "U2", nov20(12, 3)});

  r.lessons.push_back({1, 7, lesson_kind::helped, "The dashboard showed the lock at once", "U1", nov20(12, 4)});
  r.lessons.push_back({2, 7, lesson_kind::knowledge, "Migrations can block failover", "U2", nov20(12, 5)});

  action_item a;
  a.id = 3;
  a.incident_id = 7;
  a.text = "Add a canary | stage gate\nfor migrations";
  a.owner = "U2";
  a.due = year{2026} / month{11} / day{25};
  a.kind = action_kind::fix;
  r.actions.push_back(a);
  action_item b = a;
  b.id = 4;
  b.text = "Add a failover drill to the runbook";
  b.kind = action_kind::process;
  b.status = action_status::done;
  b.closed_at = at(2026, 11, 24, 9, 0);
  r.actions.push_back(b);

  r.names = {{"U1", "Alice"}, {"U2", "Bob"}, {"U3", "Carol"}};
  return r;
}

incident_record empty_record() {
  incident_record r;
  r.inc.id = 9;
  r.inc.title = "Login slow";
  r.inc.declared_by = "U1";
  r.inc.declared_at = nov20(10, 0);
  return r;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string between(const std::string& doc, std::string_view from, std::string_view to) {
  auto a = doc.find(from);
  auto b = doc.find(to, a == std::string::npos ? 0 : a);
  if (a == std::string::npos || b == std::string::npos) return {};
  return doc.substr(a, b - a);
}

std::vector<std::string> phrases(const std::vector<blame_note>& notes) {
  std::vector<std::string> out;
  for (const auto& n : notes) out.push_back(n.phrase);
  return out;
}

}  // namespace

TEST_CASE("the record shows names and orders earlier texts") {
  incident_record r = full_record();
  CHECK(r.display("U1") == "Alice");
  CHECK(r.display("U9") == "U9");
  CHECK(r.display(bot_author) == "kintsugi");
  auto revs = r.revisions_of(2);
  REQUIRE(revs.size() == 2);
  CHECK(revs[0]->text == "restarted teh replica");
  CHECK(revs[1]->text == "restartd the replica");
  CHECK(r.revisions_of(1).empty());
}

TEST_CASE("incident references") {
  CHECK(parse_incident_ref("7") == id{7});
  CHECK(parse_incident_ref("INC-7") == id{7});
  CHECK(parse_incident_ref("inc-42") == id{42});
  CHECK(parse_incident_ref(" Inc-3 ") == id{3});
  CHECK(parse_incident_ref("9223372036854775807") == id{9223372036854775807});
  for (const char* bad : {"", "0", "INC-0", "-7", "INC--7", "+7", "7a", "INC-", "INC7", "inc-7x", "seven", "7 8",
                          "9223372036854775808", "99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_incident_ref(bad).has_value());
  }
}

TEST_CASE("load_record gathers every part and the names of the people in it") {
  kintsugi::test::core_fakes::fake_store s;
  incident i = full_record().inc;
  i.holder(role::facilitator) = "U4";
  s.create_incident(i);
  s.upsert_user({"U1", "Alice", ""});
  s.upsert_user({"U2", "Bob", ""});
  s.upsert_user({"U3", "", ""});  // no display name: shown by id
  s.upsert_user({"U4", "Dana", ""});
  s.upsert_user({"U5", "Eve", ""});
  s.add_entry(entry(0, nov20(10, 5), "U3", "later", entry_kind::message, 1));
  s.add_entry(entry(0, nov20(10, 1), "U1", "earlier", entry_kind::message, 1));
  s.add_entry(entry(0, nov20(10, 2), std::string(bot_author), "bot", entry_kind::system, 1));
  s.add_entry(entry(0, nov20(10, 2), "U9", "another incident", entry_kind::message, 2));
  s.add_revision({1, nov20(10, 6), "first text"});
  s.add_why({0, 1, 2, "second", "U1", nov20(12, 0)});
  s.add_why({0, 1, 1, "first", "U2", nov20(12, 0)});
  s.add_factor({0, 1, factor_kind::people, "tired after a long shift", "U1", nov20(12, 0)});
  s.add_lesson({0, 1, lesson_kind::slowed, "slow dashboards", "U1", nov20(12, 0)});
  action_item a;
  a.incident_id = 1;
  a.text = "alert on lag";
  a.owner = "U5";
  a.created_by = "U1";
  s.add_action(a);
  s.add_action(a);

  auto r = load_record(s, 1);
  REQUIRE(r.has_value());
  CHECK(r->inc.title == "Database failover stalled");
  REQUIRE(r->entries.size() == 3);
  CHECK(r->entries[0].text == "earlier");
  CHECK(r->revisions.size() == 1);
  REQUIRE(r->whys.size() == 2);
  CHECK(r->whys[0].text == "first");
  CHECK(r->factors.size() == 1);
  CHECK(r->lessons.size() == 1);
  CHECK(r->actions.size() == 2);
  CHECK(r->display("U4") == "Dana");  // a role holder
  CHECK(r->display("U5") == "Eve");   // an owner
  CHECK(r->display("U3") == "U3");
  CHECK(r->names.count("U3") == 0);
  CHECK(s.find_user_calls == 5);  // once per person, never for the bot
  CHECK_FALSE(load_record(s, 2).has_value());
}

TEST_CASE("sections come in the documented order") {
  const std::string doc = render_postmortem_markdown(full_record());
  const std::vector<std::string> order{"# INC-7: Database failover stalled\n", "\n## Summary\n", "\n## Impact\n",
                                       "\n## Key metrics\n", "\n## Timeline\n", "\n## Root cause\n",
                                       "\n## Contributing factors\n", "\n## Lessons\n", "\n## Action items\n",
                                       "\n## Review\n"};
  std::size_t last = 0;
  for (const auto& heading : order) {
    CAPTURE(heading);
    auto pos = doc.find(heading);
    REQUIRE(pos != std::string::npos);
    CHECK(pos >= last);
    CHECK(doc.find(heading, pos + 1) == std::string::npos);
    last = pos;
  }
  CHECK(doc.rfind("# INC-7", 0) == 0);
  CHECK_FALSE(contains(doc, "## Blameless check"));
  CHECK(contains(doc, "**Severity:** sev2 · **Status:** resolved · **Declared:** 2026-11-20 10:00 UTC by Alice · "
                      "**Service:** payments\n"));
  CHECK(contains(doc, "**Commander:** Alice · **Scribe:** Bob · **Facilitator:** _open (`/incident role "
                      "facilitator me`)_\n"));
  CHECK(contains(doc, "## Summary\n\nThe primary stopped answering and the failover waited on a lock.\n"));
  CHECK(contains(doc, "## Review\n\nScheduled for 2026-11-23 15:00 UTC.\n"));
}

TEST_CASE("an empty document says what is missing and which command fills it") {
  const incident_record r = empty_record();
  const std::string doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "## Summary\n\n_No summary yet. Add one with `/incident summary <text>`._\n"));
  CHECK(contains(doc, "`/incident impact <text>`._"));
  CHECK(contains(doc, "## Timeline\n\n_No timeline entries yet."));
  CHECK(contains(doc, "`/incident note <text>`._"));
  CHECK(contains(doc, "## Root cause\n\n_No whys yet."));
  CHECK(contains(doc, "`/incident why <text>`._"));
  CHECK(contains(doc, "`/incident factor <people|process|technology|external> <text>`._"));
  CHECK(contains(doc, "### People\n\n_none recorded_\n"));
  CHECK(contains(doc, "### External\n\n_none recorded_\n"));
  CHECK(contains(doc, "### What helped\n\n_none recorded (`/incident learned helped <text>`)_\n"));
  CHECK(contains(doc, "### What we know now\n\n_none recorded (`/incident learned knowledge <text>`)_\n"));
  CHECK(contains(doc, "## Action items\n\n_No action items yet."));
  CHECK(contains(doc, "`/incident review <YYYY-MM-DD HH:MM>`._"));
  CHECK(contains(doc, "**Commander:** _open (`/incident role commander me`)_"));
  // Milestones: nothing marked; acknowledge etc. are measured from the declaration.
  CHECK(contains(doc, "- **Time to detect:** _not recorded yet; `/incident mark began <time>` (when impact started) "
                      "and `/incident mark detected [time]` fill it_\n"));
  CHECK(contains(doc, "- **Time to acknowledge:** _not recorded yet; `/incident mark acknowledged [time]` fills it_\n"));
  CHECK(contains(doc, "- **Time to resolve:** _not recorded yet; `/incident mark resolved [time]` fills it_\n"));
  CHECK_FALSE(contains(doc, "kind:process`._"));  // no actions: the empty hint is enough

  auto states = sections(r);
  REQUIRE(states.size() == 9);
  CHECK(states[0].name == "Summary");
  CHECK(states[0].command == "/incident summary <text>");
  CHECK(states[8].name == "Review");
  CHECK(std::none_of(states.begin(), states.end(), [](const section_state& s) { return s.filled; }));
  auto full = sections(full_record());
  CHECK(std::all_of(full.begin(), full.end(), [](const section_state& s) { return s.filled; }));
}

TEST_CASE("key metrics show durations with their milestone times") {
  const std::string doc = render_postmortem_markdown(full_record());
  CHECK(contains(doc, "- **Time to detect:** 5m (began 2026-11-20 09:50 → detected 2026-11-20 09:55)\n"));
  CHECK(contains(doc, "- **Time to acknowledge:** 7m (detected 2026-11-20 09:55 → acknowledged 2026-11-20 10:02)\n"));
  CHECK(contains(doc, "- **Time to mitigate:** 35m (detected 2026-11-20 09:55 → mitigated 2026-11-20 10:30)\n"));
  CHECK(contains(doc, "- **Time to resolve:** 1h 20m (detected 2026-11-20 09:55 → resolved 2026-11-20 11:15)\n"));

  incident_record r = full_record();
  r.inc.at(milestone::detected).reset();
  r.inc.at(milestone::mitigated) = nov20(9, 0);  // before the declaration: out of order
  const std::string partial = render_postmortem_markdown(r);
  CHECK(contains(partial, "- **Time to detect:** _not recorded yet; `/incident mark detected [time]` fills it_\n"));
  CHECK(contains(partial, "- **Time to acknowledge:** 2m (declared 2026-11-20 10:00 → acknowledged 2026-11-20 10:02)\n"));
  CHECK(contains(partial, "- **Time to mitigate:** _the recorded times are out of order (mitigated 2026-11-20 09:00 is "
                          "before declared 2026-11-20 10:00); correct one with `/incident mark mitigated <time>`_\n"));
}

TEST_CASE("timeline lines: key events, edits, deletions and bot entries") {
  const std::string doc = render_postmortem_markdown(full_record());
  CHECK(contains(doc, "\n**2026-11-20**\n\n- `10:00:05` Alice: Primary is not answering\n"));
  CHECK(contains(doc, "- `10:01:00` Bob: restarted the replica _(edited)_ — earlier: “restarted teh replica” · "
                      "“restartd the replica”\n"));
  CHECK(contains(doc, "- `10:02:00` _[status]_ kintsugi: Status: identified\n"));
  CHECK(contains(doc, "- `10:03:00` 📌 _[note]_ **Bob: Failover started**\n"));
  CHECK(contains(doc, "- `10:04:00` Carol: ~~oops wrong channel~~ _(deleted 10:06)_\n"));

  incident_record r = full_record();
  r.entries.push_back(entry(6, at(2026, 11, 21, 0, 0, 1), "U1", "still here\nsecond line"));
  const std::string timeline = render_timeline_markdown(r);
  CHECK(timeline.rfind("# INC-7 timeline: Database failover stalled\n", 0) == 0);
  CHECK(contains(timeline, "**Entries:** 6"));
  CHECK(contains(timeline, "\n**2026-11-21**\n\n- `00:00:01` Alice: still here\n  second line\n"));
  CHECK(contains(timeline, "- `10:03:00` 📌 _[note]_ **Bob: Failover started**\n"));
  CHECK_FALSE(contains(timeline, "## Summary"));
}

TEST_CASE("whys are numbered, with a gentle hint while the chain is short") {
  incident_record r = full_record();
  std::string doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "## Root cause\n\n1. The failover waited for a lock held by a long migration.\n"
                      "2. The migration ran in one transaction.\n\n_2 whys so far. Dig further with "
                      "`/incident why <text>`: five is a guide, not a rule._\n"));
  for (int k = 3; k <= 5; ++k) r.whys.push_back({id{k}, 7, k, "why " + std::to_string(k), "U1", nov20(12, 9)});
  doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "5. why 5\n"));
  CHECK_FALSE(contains(doc, "so far. Dig further"));
  CHECK_FALSE(contains(doc, "If the chain goes deeper"));
}

TEST_CASE("contributing factors and lessons are grouped by kind") {
  const std::string doc = render_postmortem_markdown(full_record());
  CHECK(between(doc, "### People", "### Process") == "### People\n\n_none recorded_\n\n");
  CHECK(between(doc, "### Process", "### Technology") == "### Process\n\n- The runbook has no failover drill\n\n");
  CHECK(between(doc, "### Technology", "### External") == "### Technology\n\n- Replica lag was not alerted on\n\n");
  CHECK(contains(doc, "### What helped\n\n- The dashboard showed the lock at once\n"));
  CHECK(contains(doc, "### What we know now\n\n- Migrations can block failover\n"));
  CHECK(contains(doc, "### What slowed us down\n\n_none recorded"));
}

TEST_CASE("the action table escapes pipes and notes a missing process action") {
  incident_record r = full_record();
  std::string doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "| # | Action | Owner | Due | Kind | Status |\n|---|---|---|---|---|---|\n"));
  CHECK(contains(doc, "| 3 | Add a canary \\| stage gate for migrations | Bob | 2026-11-25 | fix | open |\n"));
  CHECK(contains(doc, "| 4 | Add a failover drill to the runbook | Bob | 2026-11-25 | process | done 2026-11-24 |\n"));
  CHECK_FALSE(contains(doc, "None of these changes how we work yet"));

  r.actions[1].status = action_status::dropped;  // a dropped process item does not count
  doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "_None of these changes how we work yet."));
  CHECK(contains(doc, "`/incident action add <text> @owner kind:process`._\n"));

  r.actions[0].text = "path C:\\tmp|x";
  r.actions[0].due.reset();
  doc = render_postmortem_markdown(r);
  CHECK(contains(doc, "| 3 | path C:\\\\tmp\\|x | Bob | — | fix | open |\n"));
}

TEST_CASE("blame words are found, with a systems phrasing for each") {
  const std::vector<std::string> none;
  struct sample {
    const char* text;
    const char* phrase;
  };
  for (const auto& s : std::vector<sample>{
           {"It was the operator's fault.", "fault"},
           {"A careless change to the config.", "careless"},
           {"We should have checked the lag", "should have"},
           {"You shouldn't have deployed on Friday", "shouldn't have"},
           {"Someone should’ve known", "should’ve"},
           {"Ops dropped the ball on the hand-off", "dropped the ball"},
           {"negligent handling of keys", "negligent"},
           {"an incompetent review", "incompetent"},
           {"Sloppy work in the migration", "Sloppy"},
           {"Nobody wants to blame anyone", "blame"},
           {"we messed up the config", "messed up"},
           {"The deploy got screwed up", "screwed up"},
           {"Root cause: human error", "human error"},
           {"It was their mistake", "their mistake"},
           {"He failed to renew the cert", "He failed to"},
           {"the on-call engineer forgot the runbook", "engineer forgot"},
       }) {
    CAPTURE(s.text);
    auto notes = scan_blame(s.text, "Summary", none);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].phrase == s.phrase);
    CHECK(notes[0].where == "Summary");
    CHECK_FALSE(notes[0].suggestion.empty());
  }
}

TEST_CASE("a person as the subject of a failure is flagged, with a specific suggestion") {
  const std::vector<std::string> people{"bob", "U07ALICE", "Alice Smith", "carol", "dave", "eve"};
  auto one = [&](const char* text) {
    auto notes = scan_blame(text, "Why 1", people);
    REQUIRE(notes.size() == 1);
    return notes[0];
  };
  auto n = one("Bob forgot the canary");
  CHECK(n.phrase == "Bob forgot");
  CHECK(n.suggestion ==
        "Describe what the system allowed, e.g. 'the work went ahead without the canary' — what made the step easy "
        "to miss?");
  CHECK(one("Alice Smith broke prod.").phrase == "Alice Smith broke");
  CHECK(one("Alice Smith broke prod.").suggestion.find("'prod broke after a change'") != std::string::npos);
  CHECK(one("then alice broke the build").phrase == "alice broke");
  CHECK(one("U07ALICE ignored the alert").phrase == "U07ALICE ignored");
  auto missed = one("Carol missed the page, then went home");
  CHECK(missed.phrase == "Carol missed");
  CHECK(missed.suggestion.find("'the page went unnoticed'") != std::string::npos);
  auto didnt = one("dave didn't check the logs");
  CHECK(didnt.phrase == "dave didn't");
  CHECK(didnt.suggestion.find("'nothing prompted anyone to check the logs'") != std::string::npos);
  CHECK(one("Dave did not check").phrase == "Dave did not");
  auto failed = one("eve failed to renew the cert");
  CHECK(failed.phrase == "eve failed to");
  CHECK(failed.suggestion.find("'nothing prompted anyone to renew the cert'") != std::string::npos);
  CHECK(one("That was bob's mistake").phrase == "bob's mistake");
  CHECK(one("That was Bob’s big mistake").phrase == "Bob’s big mistake");
  CHECK(one("Bob accidentally broke the build").phrase == "Bob accidentally broke");
  CHECK(one("bob made a mistake").phrase == "bob made a mistake");
  CHECK(one("bob's deploy broke checkout").phrase == "bob's deploy broke");
  CHECK(one("bob caused the outage").suggestion.find("'a change led to the outage'") != std::string::npos);
  auto to = one("bob forgot to run the migration");
  CHECK(to.suggestion.find("'nothing prompted anyone to run the migration'") != std::string::npos);
  CHECK(scan_blame("Bob forgot the canary and carol missed the page", "x", people).size() == 2);
}

TEST_CASE("ordinary words are not blame") {
  const std::vector<std::string> people{"bob", "al", "x", "dave"};
  for (const char* text : {
           "The default config was wrong",
           "A faulty disk in rack 3",
           "We should rotate the keys",
           "Bobby forgot the keys",
           "Alice forgot nothing",  // alice is not among the people
           "page fault storm on the db hosts",
           "fault tolerance was off",
           "a no-blame review",
           "this is a blameless review",
           "bob fixed the error",
           "bob noticed missed alerts",
           "the deploy failed to roll back",
           "I forgot the canary",
           "We missed the alert",
           "x forgot",  // one-letter "names" are ignored
           "the shoulder of the graph",
           "bob's error budget ran out",
           "bob broke down the timeline for us",
           "dave didn't have access to the console",
           "the replicas lagged and they failed to catch up",
           "",
       }) {
    CAPTURE(text);
    CHECK(scan_blame(text, "Summary", people).empty());
  }
  CHECK(scan_blame("al forgot the keys", "Summary", people).size() == 1);
}

TEST_CASE("the whole record is scanned, chat messages are not") {
  incident_record r = full_record();
  r.inc.summary = "The deploy went out without a canary.";
  r.whys[1].text = "Bob should have waited for the replica.";
  r.factors.push_back({3, 7, factor_kind::people, "Careless review", "U1", nov20(12, 6)});
  r.lessons.push_back({3, 7, lesson_kind::slowed, "Alice forgot the dashboard link", "U1", nov20(12, 7)});
  r.actions[0].text = "Stop the sloppy deploys";
  auto upd = entry(7, nov20(10, 9), "U1", "Carol missed the page", entry_kind::update);
  r.entries.push_back(upd);
  r.entries.push_back(entry(8, nov20(10, 10), "U1", "this is all my fault lol"));  // chat: left alone
  auto gone = entry(9, nov20(10, 11), "U1", "bob forgot", entry_kind::note);
  gone.deleted = true;
  r.entries.push_back(gone);

  auto notes = find_blame(r);
  REQUIRE(notes.size() == 5);
  CHECK(notes[0].where == "Why 2");
  CHECK(notes[0].phrase == "should have");
  CHECK(notes[1].where == "Factor (people)");
  CHECK(notes[2].where == "Lesson (slowed)");
  CHECK(notes[2].phrase == "Alice forgot");  // by display name
  CHECK(notes[3].where == "Action 3");
  CHECK(notes[4].where == "Timeline 10:09 (Alice)");
  CHECK(notes[4].phrase == "Carol missed");
  CHECK(phrases(notes) == std::vector<std::string>{"should have", "Careless", "Alice forgot", "sloppy", "Carol missed"});

  const std::string doc = render_postmortem_markdown(r);
  auto check = doc.find("\n## Blameless check\n");
  REQUIRE(check != std::string::npos);
  CHECK(check > doc.find("\n## Review\n"));
  CHECK(contains(doc, "- **Why 2** — “should have”: Hindsight makes the right move look obvious."));
  CHECK(contains(doc, "- **Timeline 10:09 (Alice)** — “Carol missed”: Describe what the system showed, e.g. 'the "
                      "page went unnoticed'"));
}

TEST_CASE("a 50k-entry timeline renders quickly") {
  incident_record r = full_record();
  r.entries.clear();
  r.revisions.clear();
  const timestamp start = nov20(10, 0);
  for (int k = 0; k < 50000; ++k) {
    auto e = entry(k + 1, start + seconds{k * 3}, k % 3 == 0 ? "U1" : "U2",
                   "message number " + std::to_string(k) + " about the primary and its replica",
                   k % 100 == 0 ? entry_kind::note : entry_kind::message);
    if (k % 50 == 0) {
      e.edited = true;
      r.revisions.push_back({e.id, e.at + seconds{1}, "an earlier text"});
    }
    r.entries.push_back(std::move(e));
  }
  auto t0 = std::chrono::steady_clock::now();
  const std::string doc = render_postmortem_markdown(r);
  const std::string timeline = render_timeline_markdown(r);
  auto elapsed = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  MESSAGE("postmortem + timeline of 50k entries: " << elapsed.count() << " ms");
  // A guard against quadratic work (which would take minutes), loose enough for a loaded Debug machine.
  // Release renders both in well under 100 ms.
  CHECK(elapsed < milliseconds{2500});
  CHECK(contains(doc, "**2026-11-21**"));  // 50k × 3 s crosses midnight
  CHECK(contains(doc, "message number 49999 about"));
  CHECK(std::count(timeline.begin(), timeline.end(), '\n') > 50000);
}
