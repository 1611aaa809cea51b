#include "docs/exports.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/record_builders.hpp"

using namespace kintsugi::docs;
using namespace kintsugi::core;
using namespace kintsugi::test::records;
using nlohmann::json;

namespace {

incident_record sample() {
  incident_record r;
  r.inc = failover_incident();
  incident& i = r.inc;
  i.status = incident_status::monitoring;
  i.channel = "C123";
  i.summary = "Primary stopped. <script>alert('x')</script> Failover waited.";

  r.entries.push_back(entry(1, nov20(10, 0, 5), "U1", "Primary is not answering"));
  auto edited = entry(2, nov20(10, 1) + milliseconds{250}, "U2", "restarted the replica, \"carefully\"\nthen waited");
  edited.edited = true;
  edited.edited_at = nov20(10, 1, 30);
  r.entries.push_back(edited);
  auto note = entry(3, nov20(10, 3), "U2", "Failover started", entry_kind::note);
  note.key = true;
  r.entries.push_back(note);
  auto gone = entry(4, nov20(10, 4), "U3", "oops wrong channel");
  gone.deleted = true;
  gone.deleted_at = nov20(10, 6);
  r.entries.push_back(gone);
  r.revisions.push_back({2, nov20(10, 1, 30), "restartd the replica"});

  r.whys.push_back({1, 7, 1, "The failover waited for a lock.", "U1", nov20(12, 0)});
  r.factors.push_back({1, 7, factor_kind::technology, "Replica lag was not alerted on", "U1", nov20(12, 2)});
  r.lessons.push_back({1, 7, lesson_kind::helped, "The dashboard showed the lock", "U2", nov20(12, 4)});

  action_item a;
  a.id = 3;
  a.incident_id = 7;
  a.text = "Add a canary | stage gate";
  a.owner = "U2";
  a.due = year{2026} / month{11} / day{25};
  a.created_by = "U1";
  a.created_at = nov20(12, 10);
  r.actions.push_back(a);

  r.names = {{"U1", "Alice"}, {"U2", "Bob"}};
  return r;
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("incident JSON has the documented keys and types") {
  const json j = json::parse(incident_json(sample().inc));
  CHECK(keys_of(j) == std::set<std::string>{"id", "key", "title", "severity", "status", "channel", "declared_by",
                                            "declared_at", "service", "roles", "milestones", "summary", "impact",
                                            "review_at"});
  CHECK(j["id"] == 7);
  CHECK(j["id"].is_number_integer());
  CHECK(j["key"] == "INC-7");
  CHECK(j["severity"] == "sev2");
  CHECK(j["status"] == "monitoring");
  CHECK(j["channel"] == "C123");
  CHECK(j["declared_by"] == "U1");
  CHECK(j["declared_at"] == "2026-11-20T10:00:00Z");
  CHECK(j["service"] == "payments");
  CHECK(keys_of(j["roles"]) == std::set<std::string>{"commander", "scribe", "facilitator"});
  CHECK(j["roles"]["commander"] == "U1");
  CHECK(j["roles"]["scribe"].is_null());
  CHECK(keys_of(j["milestones"]) == std::set<std::string>{"began", "detected", "acknowledged", "mitigated", "resolved"});
  CHECK(j["milestones"]["began"] == "2026-11-20T09:50:00Z");
  CHECK(j["milestones"]["resolved"].is_null());
  CHECK(j["impact"] == "");
  CHECK(j["review_at"].is_null());
}

TEST_CASE("timeline JSON: incident and entries with exact keys") {
  const json j = json::parse(timeline_json(sample()));
  CHECK(keys_of(j) == std::set<std::string>{"incident", "entries"});
  CHECK(j["incident"]["key"] == "INC-7");
  REQUIRE(j["entries"].is_array());
  REQUIRE(j["entries"].size() == 4);
  for (const auto& e : j["entries"]) {
    for (const char* k : {"at", "author", "kind", "text"}) {
      CAPTURE(k);
      CHECK(e[k].is_string());
    }
    for (const char* k : {"edited", "deleted", "key"}) {
      CAPTURE(k);
      CHECK(e[k].is_boolean());
    }
    CHECK(e["revisions"].is_array());
  }
  const json& first = j["entries"][0];
  CHECK(first["at"] == "2026-11-20T10:00:05Z");
  CHECK(first["author"] == "U1");
  CHECK(first["author_name"] == "Alice");
  CHECK(first["kind"] == "message");
  CHECK(first["text"] == "Primary is not answering");
  CHECK(first["edited"] == false);
  CHECK(first["id"] == 1);
  const json& edited = j["entries"][1];
  CHECK(edited["at"] == "2026-11-20T10:01:00.250Z");
  CHECK(edited["edited"] == true);
  CHECK(edited["edited_at"] == "2026-11-20T10:01:30Z");
  REQUIRE(edited["revisions"].size() == 1);
  CHECK(edited["revisions"][0]["text"] == "restartd the replica");
  CHECK(edited["revisions"][0]["replaced_at"] == "2026-11-20T10:01:30Z");
  CHECK(j["entries"][2]["kind"] == "note");
  CHECK(j["entries"][2]["key"] == true);
  CHECK(j["entries"][3]["deleted"] == true);
  CHECK(j["entries"][3]["deleted_at"] == "2026-11-20T10:06:00Z");
  CHECK(j["entries"][3]["author_name"] == "U3");  // no name known: the id
}

TEST_CASE("postmortem JSON carries every part, with missing sections and blame notes") {
  incident_record r = sample();
  r.whys.push_back({2, 7, 2, "Bob forgot the canary", "U1", nov20(12, 1)});
  const json j = json::parse(postmortem_json(r));
  CHECK(keys_of(j) == std::set<std::string>{"incident", "metrics", "summary", "impact", "timeline", "whys", "factors",
                                            "lessons", "actions", "review", "blameless_notes", "missing_sections"});
  CHECK(j["metrics"]["to_detect"]["seconds"] == 300);
  CHECK(j["metrics"]["to_detect"]["text"] == "5m");
  CHECK(j["metrics"]["to_acknowledge"]["seconds"] == 420);
  CHECK(j["metrics"]["to_resolve"].is_null());
  CHECK(j["summary"] == r.inc.summary);
  CHECK(j["timeline"].size() == 4);
  REQUIRE(j["whys"].size() == 2);
  CHECK(j["whys"][1]["position"] == 2);
  CHECK(j["whys"][1]["text"] == "Bob forgot the canary");
  CHECK(keys_of(j["factors"]) == std::set<std::string>{"people", "process", "technology", "external"});
  CHECK(j["factors"]["technology"][0]["text"] == "Replica lag was not alerted on");
  CHECK(j["factors"]["people"].empty());
  CHECK(keys_of(j["lessons"]) == std::set<std::string>{"helped", "slowed", "different", "knowledge"});
  CHECK(j["lessons"]["helped"][0]["author_name"] == "Bob");
  REQUIRE(j["actions"].size() == 1);
  CHECK(j["actions"][0]["id"] == 3);
  CHECK(j["actions"][0]["text"] == "Add a canary | stage gate");
  CHECK(j["actions"][0]["owner"] == "U2");
  CHECK(j["actions"][0]["owner_name"] == "Bob");
  CHECK(j["actions"][0]["due"] == "2026-11-25");
  CHECK(j["actions"][0]["kind"] == "fix");
  CHECK(j["actions"][0]["status"] == "open");
  CHECK(j["actions"][0]["closed_at"].is_null());
  CHECK(j["review"].is_null());
  REQUIRE(j["blameless_notes"].size() == 1);
  CHECK(j["blameless_notes"][0]["where"] == "Why 2");
  CHECK(j["blameless_notes"][0]["phrase"] == "Bob forgot");
  std::vector<std::string> missing;
  for (const auto& m : j["missing_sections"]) missing.push_back(m["name"]);
  CHECK(missing == std::vector<std::string>{"Impact", "Key metrics", "Review"});
  CHECK(j["missing_sections"][2]["command"] == "/incident review <YYYY-MM-DD HH:MM>");
}

TEST_CASE("JSON survives text that is not valid UTF-8") {
  incident_record r = sample();
  r.entries[0].text = std::string("bad \xC3\x28 byte");
  const json j = json::parse(timeline_json(r));
  CHECK(j["entries"][0]["text"].get<std::string>().rfind("bad ", 0) == 0);
}

TEST_CASE("timeline CSV follows RFC 4180") {
  const std::string csv = timeline_csv(sample());
  CHECK(csv.rfind("at,author,kind,text,edited,deleted,key\r\n", 0) == 0);
  CHECK(contains(csv, "\r\n2026-11-20T10:00:05Z,U1,message,Primary is not answering,false,false,false\r\n"));
  CHECK(contains(csv, "\r\n2026-11-20T10:01:00.250Z,U2,message,\"restarted the replica, \"\"carefully\"\"\nthen "
                      "waited\",true,false,false\r\n"));
  CHECK(contains(csv, "\r\n2026-11-20T10:03:00Z,U2,note,Failover started,false,false,true\r\n"));
  CHECK(contains(csv, "\r\n2026-11-20T10:04:00Z,U3,message,oops wrong channel,false,true,false\r\n"));
  incident_record empty = sample();
  empty.entries.clear();
  CHECK(timeline_csv(empty) == "at,author,kind,text,edited,deleted,key\r\n");
}

TEST_CASE("stats JSON") {
  team_stats s;
  s.days = 30;
  s.now = nov20(12, 0);
  s.since = s.now - days{30};
  s.incidents = 3;
  s.open_incidents = 1;
  s.by_severity = {1, 2, 0, 0, 0};
  s.acknowledge = {2, dur{minutes{5}}, dur{minutes{4}}};
  s.repeats.push_back({"service payments", {1, 3}});
  s.actions = 4;
  s.actions_open = 1;
  s.actions_overdue = 1;
  s.actions_closed = 3;
  s.actions_closed_on_time = 2;
  s.closed_on_time_pct = 200.0 / 3.0;
  const json j = json::parse(stats_json(s));
  CHECK(j["days"] == 30);
  CHECK(j["now"] == "2026-11-20T12:00:00Z");
  CHECK(j["since"] == "2026-10-21T12:00:00Z");
  CHECK(j["incidents"] == 3);
  CHECK(j["by_severity"]["sev2"] == 2);
  CHECK(j["by_severity"]["near-miss"] == 0);
  CHECK(j["time_to_acknowledge"]["count"] == 2);
  CHECK(j["time_to_acknowledge"]["mean_seconds"] == 300);
  CHECK(j["time_to_acknowledge"]["median"] == "4m");
  CHECK(j["time_to_detect"]["mean_seconds"].is_null());
  CHECK(j["repeats"][0]["reason"] == "service payments");
  CHECK(j["repeats"][0]["incidents"] == json::array({1, 3}));
  CHECK(j["actions"]["total"] == 4);
  CHECK(j["actions"]["overdue"] == 1);
  CHECK(j["actions"]["closed_on_time_pct"].get<double>() == doctest::Approx(66.7));
}

TEST_CASE("HTML: a full page, user HTML neutralised, tables and strikethrough rendered") {
  incident_record r = sample();
  r.inc.title = "Failover <b>stalled</b> & \"slow\"";
  r.factors[0].text = "<img src=x onerror=alert(1)>";
  r.inc.impact = "See [the runbook](javascript:alert(1)) and <a href=\"javascript:alert(2)\">this</a>.";
  action_item b = r.actions[0];
  b.id = 4;
  b.text = "path C:\\tmp|x `a|b`";
  r.actions.push_back(b);
  const std::string html = postmortem_html(r);
  CHECK(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0) == 0);
  CHECK(contains(html, "<meta charset=\"utf-8\">"));
  CHECK(contains(html, "<title>INC-7: Failover &lt;b&gt;stalled&lt;/b&gt; &amp; &quot;slow&quot; — postmortem</title>"));
  CHECK(contains(html, "<style>"));
  CHECK(contains(html, "border-collapse"));
  CHECK(contains(html, "</body>\n</html>\n"));
  // The summary's script and the factor's img are not passed through.
  CHECK_FALSE(contains(html, "<script>"));
  CHECK_FALSE(contains(html, "alert('x')</script>"));
  CHECK_FALSE(contains(html, "<img"));
  CHECK_FALSE(contains(html, "<b>stalled"));
  CHECK(contains(html, "Primary stopped."));
  CHECK(contains(html, "<table>"));
  CHECK(contains(html, "<th>Action</th>"));
  CHECK(contains(html, "<td>Add a canary | stage gate</td>"));
  CHECK(contains(html, "<td>path C:\\tmp|x <code>a|b</code></td>"));
  CHECK_FALSE(contains(html, "javascript:"));
  CHECK(contains(html, "the runbook</a>"));
  CHECK(contains(html, "<del>oops wrong channel</del>"));
  CHECK(contains(html, "<h2>Summary</h2>"));
  CHECK(contains(html, "<h3>Technology</h3>"));
  CHECK(contains(html, "<strong>Bob: Failover started</strong>"));
}

TEST_CASE("postmortem and timeline JSON name the channel where the platform told its name, and only then") {
  incident_record r = sample();
  CHECK_FALSE(json::parse(postmortem_json(r))["incident"].contains("channel_name"));
  r.channel_names[r.inc.channel] = "inc-db";
  const json pm = json::parse(postmortem_json(r));
  CHECK(pm["incident"]["channel"] == r.inc.channel);
  CHECK(pm["incident"]["channel_name"] == "inc-db");
  CHECK(json::parse(timeline_json(r))["incident"]["channel_name"] == "inc-db");
}
