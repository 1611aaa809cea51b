// A whole incident through `kintsugi console --jsonl`, then the documents it produces, then a restart.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "e2e_support.hpp"

using namespace kintsugi::test;

namespace {

const std::string ch = "inc-db";

// The scripted incident of issue 2's "Done means": start, chatter, an edit, a deletion, a pin, roles, milestones,
// whys, factors, lessons, three action items, resolve, postmortem.
std::vector<std::string> incident_script() {
  return {
      say("c01", "alice", ch, "/incident start Primary database failover stalled service:orders sev1", "2026-11-20T10:00:00Z"),
      say("m01", "alice", ch, "orders API p99 at 30s, errors climbing", "2026-11-20T10:00:30Z"),
      say("c02", "bob", ch, "/incident role commander me", "2026-11-20T10:01:00Z"),
      say("c03", "bob", ch, "/incident role scribe @carol", "2026-11-20T10:01:30Z"),
      say("c04", "dave", ch, "/incident role facilitator me", "2026-11-20T10:02:00Z"),
      say("m02", "carol", ch, "replica lag is 0, primary not accepting writes", "2026-11-20T10:03:00Z"),
      json{{"type", "edit"}, {"id", "m02"}, {"text", "replica lag is 0; primary refuses writes (disk full)"}, {"ts", "2026-11-20T10:03:40Z"}}.dump() + "\n",
      say("m03", "bob", ch, "wrong window, ignore", "2026-11-20T10:04:00Z"),
      json{{"type", "delete"}, {"id", "m03"}, {"ts", "2026-11-20T10:04:10Z"}}.dump() + "\n",
      json{{"type", "reaction"}, {"id", "m02"}, {"user", "bob"}, {"emoji", "pushpin"}, {"ts", "2026-11-20T10:04:20Z"}}.dump() + "\n",
      say("c05", "bob", ch, "/incident mark began 09:41", "2026-11-20T10:05:00Z"),
      say("c06", "bob", ch, "/incident status identified", "2026-11-20T10:06:00Z"),
      say("c07", "bob", ch, "/incident update Failing over to the replica by hand", "2026-11-20T10:07:00Z"),
      say("c08", "carol", ch, "/incident note Manual failover started", "2026-11-20T10:08:00Z"),
      say("c09", "bob", ch, "/incident mark mitigated 2026-11-20 10:20", "2026-11-20T10:21:00Z"),
      say("c10", "bob", ch, "/incident summary The orders database stopped accepting writes for 39 minutes", "2026-11-20T10:40:00Z"),
      say("c11", "bob", ch, "/incident impact Checkout failed for about 30% of customers", "2026-11-20T10:40:10Z"),
      say("c12", "dave", ch, "/incident why The primary's disk filled up", "2026-11-20T10:41:00Z"),
      say("c13", "dave", ch, "/incident why WAL archiving had been failing silently", "2026-11-20T10:41:10Z"),
      say("c14", "dave", ch, "/incident why The archive bucket's credentials expired", "2026-11-20T10:41:20Z"),
      say("c15", "dave", ch, "/incident factor technology Automatic failover waits for a healthy disk", "2026-11-20T10:42:00Z"),
      say("c16", "dave", ch, "/incident factor process No alert on WAL archive failures", "2026-11-20T10:42:10Z"),
      say("c17", "dave", ch, "/incident learned helped The failover runbook was current", "2026-11-20T10:43:00Z"),
      say("c18", "dave", ch, "/incident learned slowed Paging reached the wrong rotation", "2026-11-20T10:43:10Z"),
      say("c19", "bob", ch, "/incident action add Alert on WAL archive failures @carol due:2026-11-27 kind:detection", "2026-11-20T10:44:00Z"),
      say("c20", "bob", ch, "/incident action add Rotate archive credentials automatically @erin due:+14d", "2026-11-20T10:44:10Z"),
      say("c21", "bob", ch, "/incident action add Add disk-space check to the failover runbook @dave kind:process", "2026-11-20T10:44:20Z"),
      say("c22", "bob", ch, "/incident resolve Writes flowing, backlog drained", "2026-11-20T10:45:00Z"),
      say("c23", "dave", ch, "/incident review 2026-11-23 15:00", "2026-11-20T10:46:00Z"),
      say("c24", "bob", ch, "/incident postmortem", "2026-11-20T10:47:00Z"),
  };
}

std::string join(const std::vector<std::string>& lines, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  std::string s;
  for (std::size_t i = from; i < std::min(to, lines.size()); ++i) s += lines[i];
  return s;
}

// Checks that the section headings appear, each once, in this order.
void check_order(const std::string& doc, const std::vector<std::string>& headings) {
  std::size_t last = 0;
  for (const auto& h : headings) {
    auto at = doc.find("\n" + h + "\n");
    CAPTURE(h);
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
}

}  // namespace

TEST_CASE("a scripted incident yields a complete postmortem") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto out = console_jsonl(db, join(incident_script()));

  CHECK(of_type(out, "error").empty());
  // The welcome names the three roles and asks who takes them.
  REQUIRE(!out.empty());
  CHECK(out.front()["type"] == "post");
  CHECK(out.front()["channel"] == ch);
  auto welcome = out.front()["text"].get<std::string>();
  for (auto word : {"INC-1", "Commander", "Scribe", "Facilitator", "Who takes them"}) CHECK(welcome.find(word) != std::string::npos);
  CHECK(any_text_contains(out, "topic", "INC-1 sev1"));
  CHECK(any_text_contains(out, "post", "@bob took the commander role"));
  CHECK(any_text_contains(out, "post", "made @carol scribe"));
  // Each owner gets a DM with the item, the incident and how to close it.
  // The facilitator is asked at resolve to schedule the review.
  auto dms = of_type(out, "dm");
  REQUIRE(dms.size() == 4);
  CHECK(dms.back()["user"] == "dave");
  CHECK(dms.back()["text"].get<std::string>().starts_with("📅 INC-1 (Primary database failover stalled) is resolved."));
  dms.pop_back();
  std::set<std::string> owners;
  for (const auto& d : dms) {
    owners.insert(d["user"].get<std::string>());
    CHECK(d["text"].get<std::string>().find("INC-1") != std::string::npos);
    CHECK(d["text"].get<std::string>().find("/incident action done") != std::string::npos);
  }
  CHECK(owners == std::set<std::string>{"carol", "erin", "dave"});
  CHECK(any_text_contains(out, "post", "INC-1 is resolved"));
  CHECK(any_text_contains(out, "post", "# INC-1: Primary database failover stalled"));

  auto pm = run_kintsugi({"postmortem", "--db", db, "1"});
  REQUIRE(pm.exit_code == 0);
  const auto& doc = pm.out;
  CHECK(doc.starts_with("# INC-1: Primary database failover stalled"));
  CHECK(doc.find("sev1") != std::string::npos);
  check_order(doc, {"## Summary", "## Impact", "## Key metrics", "## Timeline", "## Root cause", "## Contributing factors",
                    "## Lessons", "## Action items", "## Review"});
  CHECK(doc.find("stopped accepting writes for 39 minutes") != std::string::npos);
  CHECK(doc.find("about 30% of customers") != std::string::npos);
  // Metrics from milestones: began 09:41, detected 10:00 (start), acknowledged 10:01 (commander), mitigated 10:20, resolved 10:45.
  CHECK(doc.find("19m") != std::string::npos);      // time to detect
  CHECK(doc.find("1m") != std::string::npos);       // time to acknowledge
  CHECK(doc.find("20m") != std::string::npos);      // time to mitigate
  CHECK(doc.find("45m") != std::string::npos);      // time to resolve
  // The timeline: the edit keeps the earlier text, the deletion is marked, the pin is a key event.
  CHECK(doc.find("primary refuses writes (disk full)") != std::string::npos);
  CHECK(doc.find("primary not accepting writes") != std::string::npos);
  CHECK(doc.find("(edited)") != std::string::npos);
  CHECK(doc.find("wrong window, ignore") != std::string::npos);
  CHECK(doc.find("deleted") != std::string::npos);
  CHECK(doc.find("📌") != std::string::npos);
  CHECK(doc.find("orders API p99 at 30s") != std::string::npos);
  // Whys numbered, factors grouped, lessons by kind, actions in a table, the review date.
  CHECK(doc.find("1. The primary's disk filled up") != std::string::npos);
  CHECK(doc.find("3. The archive bucket's credentials expired") != std::string::npos);
  CHECK(doc.find("No alert on WAL archive failures") != std::string::npos);
  CHECK(doc.find("The failover runbook was current") != std::string::npos);
  CHECK(doc.find("| 1 | Alert on WAL archive failures | carol | 2026-11-27 | detection | open |") != std::string::npos);
  CHECK(doc.find("| 2 | Rotate archive credentials automatically | erin | 2026-12-04 | fix | open |") != std::string::npos);
  CHECK(doc.find("| 3 | Add disk-space check to the failover runbook | dave | 2026-12-04 | process | open |") != std::string::npos);
  CHECK(doc.find("2026-11-23 15:00") != std::string::npos);
  // A process action exists, so no nudge about learning in process.
  CHECK(doc.find("kind:process") == std::string::npos);

  // The same document as JSON and HTML.
  auto pj = run_kintsugi({"postmortem", "--db", db, "INC-1", "--format", "json"});
  REQUIRE(pj.exit_code == 0);
  auto pmj = json::parse(pj.out);
  CHECK(pmj["incident"]["key"] == "INC-1");
  CHECK(pmj["incident"]["severity"] == "sev1");
  CHECK(pmj["actions"].size() == 3);
  auto html = run_kintsugi({"postmortem", "--db", db, "1", "--format", "html"});
  REQUIRE(html.exit_code == 0);
  CHECK(html.out.find("<table>") != std::string::npos);
  CHECK(html.out.find("<h2>Root cause</h2>") != std::string::npos);
}

TEST_CASE("the timeline exports keep exact times, authors, edits, deletions and key events") {
  temp_dir dir;
  auto db = dir.file("k.db");
  console_jsonl(db, join(incident_script()));
  auto r = run_kintsugi({"timeline", "--db", db, "1", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  auto t = json::parse(r.out);
  REQUIRE(t.contains("incident"));
  REQUIRE(t["entries"].is_array());
  const json* edited = nullptr;
  const json* deleted = nullptr;
  for (const auto& e : t["entries"]) {
    for (auto key : {"at", "author", "kind", "text", "edited", "deleted", "key"}) REQUIRE(e.contains(key));
    CHECK(e["edited"].is_boolean());
    CHECK(e["deleted"].is_boolean());
    CHECK(e["key"].is_boolean());
    if (e["text"] == "replica lag is 0; primary refuses writes (disk full)") edited = &e;
    if (e["text"] == "wrong window, ignore") deleted = &e;
  }
  REQUIRE(edited != nullptr);
  CHECK((*edited)["at"] == "2026-11-20T10:03:00Z");
  CHECK((*edited)["author"] == "carol");
  CHECK((*edited)["kind"] == "message");
  CHECK((*edited)["edited"] == true);
  CHECK((*edited)["key"] == true);
  REQUIRE(deleted != nullptr);
  CHECK((*deleted)["deleted"] == true);
  // Entries are in time order.
  std::vector<std::string> times;
  for (const auto& e : t["entries"]) times.push_back(e["at"]);
  CHECK(std::is_sorted(times.begin(), times.end()));

  auto csv = run_kintsugi({"timeline", "--db", db, "INC-1", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.starts_with("at,author,kind,text,edited,deleted,key"));
  CHECK(lines_of(csv.out).size() == t["entries"].size() + 1);
  auto md = run_kintsugi({"timeline", "--db", db, "1"});
  REQUIRE(md.exit_code == 0);
  CHECK(md.out.find("orders API p99 at 30s") != std::string::npos);
}

TEST_CASE("a restart keeps every entry once, and a replayed script changes nothing") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto script = incident_script();
  // First half, a new process for the second half.
  console_jsonl(db, join(script, 0, 12));
  console_jsonl(db, join(script, 12));
  auto first = json::parse(run_kintsugi({"timeline", "--db", db, "1", "--format", "json"}).out);
  // Everything again: every line is a redelivery, so nothing is said and nothing is stored twice.
  auto replay = console_jsonl(db, join(script));
  CHECK(replay.empty());
  auto second = json::parse(run_kintsugi({"timeline", "--db", db, "1", "--format", "json"}).out);
  CHECK(first["entries"] == second["entries"]);
  std::size_t messages = 0;
  for (const auto& e : second["entries"]) if (e["kind"] == "message") ++messages;
  CHECK(messages == 3);
  auto pm = json::parse(run_kintsugi({"postmortem", "--db", db, "1", "--format", "json"}).out);
  CHECK(pm["actions"].size() == 3);
}

TEST_CASE("killing the process mid-incident and starting again keeps every entry once") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto script = incident_script();
  {
    child bot{KINTSUGI_BINARY, {"console", "--db", db, "--jsonl"}};
    bot.write(join(script, 0, 6));
    // Wait until the 5th line's reply (the facilitator) is out: by then lines 1-5 are committed.
    bool seen = false;
    while (auto line = bot.read_line()) {
      if (line->find("facilitator") != std::string::npos && line->find("\"post\"") != std::string::npos) {
        seen = true;
        break;
      }
    }
    REQUIRE(seen);
    bot.kill_hard();
    bot.wait();
  }
  console_jsonl(db, join(script));  // the whole script from the top, as a redelivering platform would
  auto t = json::parse(run_kintsugi({"timeline", "--db", db, "1", "--format", "json"}).out);
  std::multiset<std::string> texts;
  for (const auto& e : t["entries"]) texts.insert(e["text"].get<std::string>());
  for (const auto& text : texts) {
    CAPTURE(text);
    CHECK(texts.count(text) == 1);
  }
  auto pm = json::parse(run_kintsugi({"postmortem", "--db", db, "1", "--format", "json"}).out);
  CHECK(pm["actions"].size() == 3);
}
