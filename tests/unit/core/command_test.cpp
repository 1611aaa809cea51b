#include "core/command.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace kintsugi::core;
using namespace std::string_literals;

namespace {

timestamp at(std::string_view iso) {
  const auto t = parse_iso(iso);
  REQUIRE(t.has_value());
  return *t;
}

date ymd(int y, unsigned m, unsigned d) { return date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}}; }

// Friday 2026-11-20 10:00 UTC, user alice, UTC.
parse_context utc() { return {"alice", at("2026-11-20T10:00:00Z"), ""}; }
parse_context berlin(std::string_view now = "2026-11-20T10:00:00Z") { return {"alice", at(now), "Europe/Berlin"}; }

template <class T>
T parsed(std::string_view text, const parse_context& ctx = utc()) {
  const parse_result r = parse_command(text, ctx);
  INFO("input: ", std::string{text}, " error: ", r.error ? r.error->message : ""s);
  REQUIRE(r.ok());
  REQUIRE_FALSE(r.error.has_value());
  REQUIRE(std::holds_alternative<T>(*r.cmd));
  return std::get<T>(*r.cmd);
}

parse_error failed(std::string_view text, const parse_context& ctx = utc()) {
  const parse_result r = parse_command(text, ctx);
  INFO("input: ", std::string{text});
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error.has_value());
  CHECK_FALSE(r.error->message.empty());
  CHECK_FALSE(r.error->usage.empty());
  return *r.error;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0u) != 0x80u) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST_SUITE("command") {

TEST_CASE("command: help in all its spellings") {
  CHECK(parsed<cmd::help>("").topic.empty());
  CHECK(parsed<cmd::help>("   \n ").topic.empty());
  CHECK(parsed<cmd::help>("help").topic.empty());
  CHECK(parsed<cmd::help>("HELP").topic.empty());
  CHECK(parsed<cmd::help>("--help").topic.empty());
  CHECK(parsed<cmd::help>("-h").topic.empty());
  CHECK(parsed<cmd::help>("?").topic.empty());
  CHECK(parsed<cmd::help>("/incident").topic.empty());
  CHECK(parsed<cmd::help>("help start").topic == "start");
  CHECK(parsed<cmd::help>("help severity").topic == "sev");
  CHECK(parsed<cmd::help>("help Lesson").topic == "learned");
  CHECK(parsed<cmd::help>("help action add").topic == "action");
  CHECK(parsed<cmd::help>("start --help").topic == "start");
  CHECK(parsed<cmd::help>("action -h").topic == "action");
  CHECK(parsed<cmd::help>("help bogus").topic == "bogus");
}

TEST_CASE("command: a leading /incident and surrounding blanks are ignored") {
  CHECK(parsed<cmd::start>("/incident start DB down sev1").title == "DB down");
  CHECK(parsed<cmd::set_severity>("/INCIDENT sev sev3").level == severity::sev3);
}

TEST_CASE("command: start") {
  SUBCASE("title and severity last") {
    const auto s = parsed<cmd::start>("start Checkout errors after deploy sev2");
    CHECK(s.title == "Checkout errors after deploy");
    REQUIRE(s.level);
    CHECK(*s.level == severity::sev2);
    CHECK(s.service.empty());
  }
  SUBCASE("no severity: the default applies") {
    const auto s = parsed<cmd::start>("start Checkout errors");
    CHECK(s.title == "Checkout errors");
    CHECK_FALSE(s.level.has_value());
  }
  SUBCASE("severity anywhere, any case, near-miss spellings") {
    CHECK(*parsed<cmd::start>("start SEV1 Payments down").level == severity::sev1);
    CHECK(parsed<cmd::start>("start SEV1 Payments down").title == "Payments down");
    CHECK(*parsed<cmd::start>("start Cert almost expired near-miss").level == severity::near_miss);
    CHECK(*parsed<cmd::start>("start Cert almost expired near_miss").level == severity::near_miss);
    CHECK(*parsed<cmd::start>("start Cert almost expired NearMiss").level == severity::near_miss);
  }
  SUBCASE("the last severity word wins, the others stay in the title") {
    const auto s = parsed<cmd::start>("start Repeat of the sev1 from Tuesday sev3");
    CHECK(*s.level == severity::sev3);
    CHECK(s.title == "Repeat of the sev1 from Tuesday");
  }
  SUBCASE("service tag anywhere") {
    const auto s = parsed<cmd::start>("start service:payments Card auth failing sev2");
    CHECK(s.service == "payments");
    CHECK(s.title == "Card auth failing");
    CHECK(parsed<cmd::start>("start Card auth Service:Payments failing").service == "Payments");
    CHECK(parsed<cmd::start>("start Card auth Service:Payments failing").title == "Card auth failing");
  }
  SUBCASE("title keeps its case, inner spacing and unicode") {
    CHECK(parsed<cmd::start>("start   Zahlung  fällt aus 🔥   sev2  ").title == "Zahlung  fällt aus 🔥");
  }
  SUBCASE("errors") {
    auto e = failed("start");
    CHECK(contains(e.message, "title"));
    CHECK(contains(e.usage, "/incident start"));
    CHECK(contains(failed("start sev1").message, "title"));
    CHECK(contains(failed("start service:db sev2").message, "title"));
    e = failed("start DB down sev5");
    CHECK(e.message == "`sev5` is not a severity. Use sev1, sev2, sev3, sev4 or near-miss.");
    CHECK(contains(failed("start DB down service:").message, "needs a name"));
    CHECK(contains(failed("start DB service:a service:b").message, "one service"));
  }
}

TEST_CASE("command: sev") {
  CHECK(parsed<cmd::set_severity>("sev sev1").level == severity::sev1);
  CHECK(parsed<cmd::set_severity>("SEV Sev4").level == severity::sev4);
  CHECK(parsed<cmd::set_severity>("severity sev3").level == severity::sev3);
  CHECK(parsed<cmd::set_severity>("sev 2").level == severity::sev2);
  CHECK(parsed<cmd::set_severity>("sev near-miss").level == severity::near_miss);
  CHECK(parsed<cmd::set_severity>("sev nearmiss").level == severity::near_miss);
  auto e = failed("sev sev5");
  CHECK(e.message == "`sev5` is not a severity. Use sev1, sev2, sev3, sev4 or near-miss.");
  CHECK(e.usage == "`/incident sev <sev1|sev2|sev3|sev4|near-miss>`");
  CHECK(contains(failed("sev").message, "Which severity"));
  CHECK(contains(failed("sev 5").message, "not a severity"));
  CHECK(contains(failed("sev sev1 now").message, "just the level"));
}

TEST_CASE("command: role and roles") {
  SUBCASE("no user is me") {
    const auto r = parsed<cmd::take_role>("role commander");
    CHECK(r.which == role::commander);
    CHECK(r.user == "alice");
  }
  SUBCASE("every way to name someone") {
    CHECK(parsed<cmd::take_role>("role scribe @bob").user == "bob");
    CHECK(parsed<cmd::take_role>("role scribe <@U123>").user == "U123");
    CHECK(parsed<cmd::take_role>("role scribe <@U123|bob>").user == "U123");
    CHECK(parsed<cmd::take_role>("role scribe <@mm:erj6qck3rfgtujs86w5r6rckzh>").user == "mm:erj6qck3rfgtujs86w5r6rckzh");
    CHECK(parsed<cmd::take_role>("role scribe me").user == "alice");
    CHECK(parsed<cmd::take_role>("role scribe @me").user == "alice");
    CHECK(parsed<cmd::take_role>("role facilitator bob").user == "bob");
    CHECK(parsed<cmd::take_role>("role facilitator j.doe-2").user == "j.doe-2");
    CHECK(parsed<cmd::take_role>("ROLE Facilitator bob").which == role::facilitator);
  }
  SUBCASE("the person first works too") {
    const auto r = parsed<cmd::take_role>("role @bob commander");
    CHECK(r.which == role::commander);
    CHECK(r.user == "bob");
  }
  SUBCASE("errors") {
    auto e = failed("role");
    CHECK(contains(e.message, "Which role"));
    CHECK(contains(e.usage, "/incident role"));
    CHECK(failed("role captain").message == "`captain` is not a role. Use commander, scribe or facilitator.");
    CHECK(contains(failed("role scribe Bob Smith").message, "one person"));
    CHECK(contains(failed("role scribe b*b").message, "not a user"));
    CHECK(contains(failed("role scribe @channel").message, "not a user"));
    CHECK(contains(failed("role scribe", {"", at("2026-11-20T10:00:00Z"), ""}).message, "who you are"));
  }
  parsed<cmd::list_roles>("roles");
  parsed<cmd::list_roles>("  \t ROLES \n");
  CHECK(contains(failed("roles all").message, "nothing after it"));
}

TEST_CASE("command: status") {
  CHECK(parsed<cmd::set_status>("status investigating").status == incident_status::investigating);
  CHECK(parsed<cmd::set_status>("status Identified").status == incident_status::identified);
  CHECK(parsed<cmd::set_status>("status monitoring").status == incident_status::monitoring);
  CHECK(parsed<cmd::set_status>("status resolved").status == incident_status::resolved);
  CHECK(failed("status fixed").message ==
        "`fixed` is not a status. Use investigating, identified, monitoring or resolved.");
  CHECK(contains(failed("status").message, "Which status"));
  CHECK(contains(failed("status identified the bad cache").message, "update"));
}

TEST_CASE("command: free-text subcommands keep the text as typed") {
  CHECK(parsed<cmd::update>("update Rolled back;  errors   falling ").text == "Rolled back;  errors   falling");
  CHECK(parsed<cmd::update>("update line one\nline two").text == "line one\nline two");
  CHECK(parsed<cmd::note>("NOTE Failover Started").text == "Failover Started");
  CHECK(parsed<cmd::summary>("summary Checkout failed for 40 minutes.").text == "Checkout failed for 40 minutes.");
  CHECK(parsed<cmd::impact>("impact 12% of orders").text == "12% of orders");
  CHECK(parsed<cmd::add_why>("why The pipeline has no canary").text == "The pipeline has no canary");
  for (const char* sub : {"update", "note", "summary", "impact", "why"}) {
    const auto e = failed(std::string{sub} + "   ");
    CHECK(contains(e.message, "Add the text"));
    CHECK(contains(e.usage, "/incident "s + sub));
  }
}

TEST_CASE("command: mark") {
  SUBCASE("no time is now") {
    const auto m = parsed<cmd::mark>("mark detected");
    CHECK(m.which == milestone::detected);
    CHECK(m.at == utc().now);
    CHECK(parsed<cmd::mark>("mark mitigated now").at == utc().now);
  }
  SUBCASE("every milestone, and ack") {
    CHECK(parsed<cmd::mark>("mark began").which == milestone::began);
    CHECK(parsed<cmd::mark>("mark acknowledged").which == milestone::acknowledged);
    CHECK(parsed<cmd::mark>("mark ack").which == milestone::acknowledged);
    CHECK(parsed<cmd::mark>("mark MITIGATED").which == milestone::mitigated);
    CHECK(parsed<cmd::mark>("mark resolved").which == milestone::resolved);
  }
  SUBCASE("HH:MM is today in UTC without a zone") {
    CHECK(parsed<cmd::mark>("mark began 09:15").at == at("2026-11-20T09:15:00Z"));
    CHECK(parsed<cmd::mark>("mark began 9:05").at == at("2026-11-20T09:05:00Z"));
  }
  SUBCASE("HH:MM is today in the user's zone") {
    // 10:00 UTC is 11:00 in Berlin (CET, +1).
    CHECK(parsed<cmd::mark>("mark began 10:30", berlin()).at == at("2026-11-20T09:30:00Z"));
    // Summer: CEST, +2.
    CHECK(parsed<cmd::mark>("mark began 11:00", berlin("2026-07-01T10:00:00Z")).at == at("2026-07-01T09:00:00Z"));
    // Just after midnight in Berlin, still the day before in UTC: "today" is Berlin's day.
    CHECK(parsed<cmd::mark>("mark began 00:10", berlin("2026-11-20T23:30:00Z")).at == at("2026-11-20T23:10:00Z"));
  }
  SUBCASE("a date and time, or ISO 8601") {
    CHECK(parsed<cmd::mark>("mark detected 2026-11-19 23:50", berlin()).at == at("2026-11-19T22:50:00Z"));
    CHECK(parsed<cmd::mark>("mark detected 2026-11-19   23:50").at == at("2026-11-19T23:50:00Z"));
    CHECK(parsed<cmd::mark>("mark detected 2026-11-20T09:00:00+02:00", berlin()).at == at("2026-11-20T07:00:00Z"));
    CHECK(parsed<cmd::mark>("mark detected 2026-11-20T10:00:30Z").at == at("2026-11-20T10:00:30Z"));  // skew
  }
  SUBCASE("errors") {
    CHECK(failed("mark").message == "Which milestone? Use began, detected, acknowledged, mitigated or resolved.");
    CHECK(failed("mark fixed").message ==
          "`fixed` is not a milestone. Use began, detected, acknowledged, mitigated or resolved.");
    CHECK(contains(failed("mark began yesterday").message, "not a time"));
    CHECK(contains(failed("mark began 25:00").message, "not a time"));
    auto e = failed("mark began 11:30");
    CHECK(contains(e.message, "has not come yet"));
    CHECK(contains(e.message, "2026-11-19 11:30"));
    CHECK(contains(e.usage, "/incident mark"));
    CHECK(contains(failed("mark began 2026-11-21 09:00").message, "in the future"));
    CHECK(contains(failed("mark began 2026-11-20T10:02:00Z").message, "in the future"));
    CHECK(contains(failed("mark began 11:30", berlin()).message, "has not come yet"));
  }
}

TEST_CASE("command: factor and learned") {
  const auto f = parsed<cmd::add_factor>("factor Process The runbook had  no rollback step");
  CHECK(f.kind == factor_kind::process);
  CHECK(f.text == "The runbook had  no rollback step");
  CHECK(parsed<cmd::add_factor>("factor people On-call was new").kind == factor_kind::people);
  CHECK(parsed<cmd::add_factor>("factor technology x").kind == factor_kind::technology);
  CHECK(parsed<cmd::add_factor>("factor external Provider outage").kind == factor_kind::external);
  CHECK(failed("factor human Someone").message ==
        "`human` is not a kind of factor. Use people, process, technology or external.");
  CHECK(contains(failed("factor").message, "Which kind"));
  CHECK(contains(failed("factor process").message, "Describe the factor"));

  const auto l = parsed<cmd::add_lesson>("learned helped The dashboard link");
  CHECK(l.kind == lesson_kind::helped);
  CHECK(l.text == "The dashboard link");
  CHECK(parsed<cmd::add_lesson>("lesson slowed No access to prod logs").kind == lesson_kind::slowed);
  CHECK(parsed<cmd::add_lesson>("learned different Page the DB team sooner").kind == lesson_kind::different);
  CHECK(parsed<cmd::add_lesson>("learned knowledge Pools cap at 100").kind == lesson_kind::knowledge);
  CHECK(failed("learned good x").message == "`good` is not a kind of lesson. Use helped, slowed, different or knowledge.");
  CHECK(contains(failed("learned").message, "Which kind"));
  CHECK(contains(failed("lesson helped").message, "Describe the lesson"));
  CHECK(contains(failed("lesson helped").usage, "/incident learned"));
}

TEST_CASE("command: action add") {
  SUBCASE("everything") {
    const auto a = parsed<cmd::action_add>("action add Add a canary stage @sam due:2026-12-01 kind:process");
    CHECK(a.text == "Add a canary stage");
    CHECK(a.owner == "sam");
    REQUIRE(a.due);
    CHECK(*a.due == ymd(2026, 12, 1));
    CHECK(a.kind == action_kind::process);
  }
  SUBCASE("defaults: no due, kind fix") {
    const auto a = parsed<cmd::action_add>("action add Fix the retry loop @sam");
    CHECK_FALSE(a.due.has_value());
    CHECK(a.kind == action_kind::fix);
  }
  SUBCASE("tokens anywhere, the last mention owns it, the text keeps its spacing") {
    const auto a = parsed<cmd::action_add>("action add KIND:detection Pair with @alex on  alerts DUE:+3d @sam");
    CHECK(a.text == "Pair with @alex on  alerts");
    CHECK(a.owner == "sam");
    CHECK(a.kind == action_kind::detection);
    CHECK(*a.due == ymd(2026, 11, 23));
  }
  SUBCASE("owner forms") {
    CHECK(parsed<cmd::action_add>("action add x <@U42>").owner == "U42");
    CHECK(parsed<cmd::action_add>("action add x <@U42|sam>").owner == "U42");
    CHECK(parsed<cmd::action_add>("action add x <@mm:sam00000000000000000000000>").owner == "mm:sam00000000000000000000000");
    CHECK(parsed<cmd::action_add>("action add x @me").owner == "alice");
    CHECK(parsed<cmd::action_add>("action add Tell @channel about it @sam.").owner == "sam");
    CHECK(parsed<cmd::action_add>("action add Tell @channel about it @sam.").text == "Tell @channel about it");
    // A bare "me" is part of the text, not an owner.
    CHECK(parsed<cmd::action_add>("action add Teach me the runbook @sam").text == "Teach me the runbook");
  }
  SUBCASE("relative due dates count from the user's day") {
    CHECK(*parsed<cmd::action_add>("action add x @sam due:+2w").due == ymd(2026, 12, 4));
    CHECK(*parsed<cmd::action_add>("action add x @sam due:3d").due == ymd(2026, 11, 23));
    CHECK(*parsed<cmd::action_add>("action add x @sam due:+1W").due == ymd(2026, 11, 27));
    // 23:30 UTC on the 20th is already the 21st in Berlin.
    CHECK(*parsed<cmd::action_add>("action add x @sam due:+1d", berlin("2026-11-20T23:30:00Z")).due == ymd(2026, 11, 22));
    CHECK(*parsed<cmd::action_add>("action add x @sam due:+1d").due == ymd(2026, 11, 21));
    // Today is fine.
    CHECK(*parsed<cmd::action_add>("action add x @sam due:2026-11-20").due == ymd(2026, 11, 20));
  }
  SUBCASE("errors") {
    auto e = failed("action add Fix the retry loop");
    CHECK(contains(e.message, "Every action needs an owner"));
    CHECK(e.usage == "`/incident action add <text> @owner [due:YYYY-MM-DD|due:+3d|due:+2w] [kind:fix|process|detection|mitigation]`");
    CHECK(contains(failed("action add Fix it @channel").message, "needs an owner"));
    CHECK(contains(failed("action add @sam due:+3d").message, "Say what the action is"));
    CHECK(contains(failed("action add").message, "Describe the action"));
    CHECK(contains(failed("action add x @sam due:2026-02-30").message, "not a real date"));
    CHECK(contains(failed("action add x @sam due:soon").message, "not a real date"));
    CHECK(contains(failed("action add x @sam due:+3").message, "not a due date"));
    CHECK(contains(failed("action add x @sam due:+0d").message, "not a due date"));
    CHECK(contains(failed("action add x @sam due:+4h").message, "not a due date"));
    CHECK(contains(failed("action add x @sam due:+99999d").message, "not a due date"));
    CHECK(contains(failed("action add x @sam due:").message, "needs a date"));
    CHECK(contains(failed("action add x @sam due:+1d due:+2d").message, "one due date"));
    e = failed("action add x @sam due:2026-11-19");
    CHECK(contains(e.message, "in the past"));
    CHECK(contains(failed("action add x @sam due:2026-11-20", berlin("2026-11-20T23:30:00Z")).message, "in the past"));
    CHECK(failed("action add x @sam kind:cleanup").message ==
          "`kind:cleanup` is not an action kind. Use fix, process, detection or mitigation.");
    CHECK(contains(failed("action add x @sam kind:fix kind:process").message, "one kind"));
  }
}

TEST_CASE("command: action list, done, reopen, drop") {
  parsed<cmd::action_list>("action list");
  parsed<cmd::action_list>("actions");
  parsed<cmd::action_list>("ACTIONS list");
  CHECK(parsed<cmd::action_done>("action done 3").id == 3);
  CHECK(parsed<cmd::action_done>("actions done #12").id == 12);
  CHECK(parsed<cmd::action_done>("action done A7").id == 7);
  CHECK(parsed<cmd::action_done>("action DONE a007").id == 7);
  CHECK(parsed<cmd::action_reopen>("action reopen 4").id == 4);
  CHECK(parsed<cmd::action_drop>("action drop 5").id == 5);
  CHECK(parsed<cmd::action_done>("action done 9223372036854775807").id == 9223372036854775807LL);

  for (const char* bad : {"0", "-1", "abc", "#", "A", "3a", "#A3", "1.5", "9223372036854775808", "99999999999999999999999"}) {
    const auto e = failed("action done "s + bad);
    CHECK(contains(e.message, "Action ids are numbers, like `3`"));
    CHECK(e.usage == "`/incident action done <id>`");
  }
  CHECK(contains(failed("action done").message, "Which action"));
  CHECK(contains(failed("action reopen").usage, "/incident action reopen"));
  CHECK(contains(failed("action done 3 4").message, "One action at a time"));
  CHECK(contains(failed("action list mine").message, "nothing after it"));
  auto e = failed("action");
  CHECK(contains(e.message, "Which action command"));
  CHECK(contains(e.usage, "/incident action add"));
  CHECK(contains(e.usage, "/incident action reassign"));
  CHECK(failed("action dnoe 3").message == "Unknown action command `dnoe`. Did you mean `done`?");
  CHECK(contains(failed("action Fix the thing @sam").message, "start with `add`"));
}

TEST_CASE("command: action snooze and reassign") {
  const auto s = parsed<cmd::action_snooze>("action snooze 3 1w");
  CHECK(s.id == 3);
  CHECK(s.by == std::chrono::weeks{1});
  CHECK(parsed<cmd::action_snooze>("action snooze #3 90m").by == std::chrono::minutes{90});
  CHECK(parsed<cmd::action_snooze>("action snooze 3 4h").by == std::chrono::hours{4});
  CHECK(parsed<cmd::action_snooze>("action snooze 3 3d").by == std::chrono::days{3});
  auto e = failed("action snooze 3 soon");
  CHECK(e.message == "`soon` is not a duration. Use a number and a unit, like `3d`, `1w`, `4h` or `90m`.");
  CHECK(e.usage == "`/incident action snooze <id> <duration>`");
  CHECK(contains(failed("action snooze 3 0d").message, "not a duration"));
  CHECK(contains(failed("action snooze 3 2 days").message, "not a duration"));
  CHECK(contains(failed("action snooze 3").message, "How long"));
  CHECK(contains(failed("action snooze x 3d").message, "not an action id"));
  CHECK(contains(failed("action snooze").message, "Which action"));

  CHECK(parsed<cmd::action_reassign>("action reassign 3 @bob").user == "bob");
  CHECK(parsed<cmd::action_reassign>("action reassign 3 @bob").id == 3);
  CHECK(parsed<cmd::action_reassign>("action reassign 3 <@U9|bob>").user == "U9");
  CHECK(parsed<cmd::action_reassign>("action reassign 3 bob").user == "bob");
  CHECK(parsed<cmd::action_reassign>("action reassign 3 me").user == "alice");
  CHECK(contains(failed("action reassign 3").message, "Who takes it over"));
  CHECK(contains(failed("action reassign 3 Bob Smith").message, "one person"));
  CHECK(contains(failed("action reassign 3 @@bob").message, "not a user"));
  CHECK(contains(failed("action reassign zero @bob").message, "Action ids are numbers"));
}

TEST_CASE("command: resolve, timeline, postmortem, stats") {
  CHECK(parsed<cmd::resolve>("resolve").text.empty());
  CHECK(parsed<cmd::resolve>("resolve  Error rate normal  for 30 min ").text == "Error rate normal  for 30 min");

  CHECK(parsed<cmd::show_timeline>("timeline").count == 20);
  CHECK(parsed<cmd::show_timeline>("timeline 1").count == 1);
  CHECK(parsed<cmd::show_timeline>("timeline 500").count == 500);
  for (const char* bad : {"0", "501", "-3", "all", "1e3", "20 30"}) {
    const auto e = failed("timeline "s + bad);
    CHECK(contains(e.message, "from 1 to 500"));
    CHECK(e.usage == "`/incident timeline [n]`");
  }

  parsed<cmd::postmortem>("postmortem");
  parsed<cmd::postmortem>("PostMortem");
  CHECK(contains(failed("postmortem now").message, "nothing after it"));

  CHECK(parsed<cmd::stats>("stats").days == 30);
  CHECK(parsed<cmd::stats>("stats 90").days == 90);
  CHECK(parsed<cmd::stats>("stats 90d").days == 90);
  CHECK(parsed<cmd::stats>("stats 3650").days == 3650);
  for (const char* bad : {"0", "3651", "d", "a month", "99999999999999999999"})
    CHECK(contains(failed("stats "s + bad).message, "from 1 to 3650"));
}

TEST_CASE("command: review") {
  CHECK(parsed<cmd::review>("review 2026-11-23 14:00").at == at("2026-11-23T14:00:00Z"));
  CHECK(parsed<cmd::review>("review 2026-11-23 14:00", berlin()).at == at("2026-11-23T13:00:00Z"));
  CHECK(parsed<cmd::review>("review 2026-11-23T14:00:00Z", berlin()).at == at("2026-11-23T14:00:00Z"));
  CHECK(parsed<cmd::review>("review 16:00", berlin()).at == at("2026-11-20T15:00:00Z"));
  auto e = failed("review 2026-11-19 14:00");
  CHECK(contains(e.message, "already passed"));
  CHECK(contains(e.message, "2026-11-22 14:00"));  // an example two days ahead
  CHECK(e.usage == "`/incident review <YYYY-MM-DD HH:MM>`");
  CHECK(contains(failed("review 2026-11-20 10:00").message, "already passed"));  // now is not ahead
  CHECK(contains(failed("review next week").message, "not a time"));
  CHECK(contains(failed("review 2026-02-30 10:00").message, "not a time"));
  CHECK(contains(failed("review").message, "When should the review be"));
}

TEST_CASE("command: unknown subcommands get a suggestion and the overview") {
  auto e = failed("strat DB down");
  CHECK(e.message == "Unknown subcommand `strat`. Did you mean `start`?");
  CHECK(e.usage == help_text());
  CHECK(contains(failed("stauts identified").message, "Did you mean `status`?"));
  CHECK(contains(failed("postmorten").message, "Did you mean `postmortem`?"));
  CHECK(contains(failed("timelin").message, "Did you mean `timeline`?"));
  CHECK(contains(failed("summ").message, "Did you mean `summary`?"));
  CHECK(contains(failed("Sevrity sev1").message, "Did you mean `severity`?"));
  e = failed("Database is down");
  CHECK(e.message == "Unknown subcommand `Database`. Pick one below; to declare an incident, use `/incident start <title>`.");
  // What we echo is short and cannot break the Markdown around it.
  e = failed("a`b" + std::string(200, 'x'));
  CHECK(e.message.size() < 160);
  CHECK(contains(e.message, "`a'bxxx"));
  CHECK(contains(e.message, "…`"));
}

TEST_CASE("command: parse_mention") {
  CHECK(parse_mention("@bob", "alice") == "bob");
  CHECK(parse_mention("@j.doe_2-x", "alice") == "j.doe_2-x");
  CHECK(parse_mention("@bob,", "alice") == "bob");
  CHECK(parse_mention("<@U123>", "alice") == "U123");
  CHECK(parse_mention("<@U123|bob>", "alice") == "U123");
  CHECK(parse_mention("<@W0ABC|Bob Smith>", "alice") == "W0ABC");
  CHECK(parse_mention("<@mm:erj6qck3rfgtujs86w5r6rckzh>", "alice") == "mm:erj6qck3rfgtujs86w5r6rckzh");
  CHECK(parse_mention("<@mm:erj6qck3rfgtujs86w5r6rckzh>.", "alice") == "mm:erj6qck3rfgtujs86w5r6rckzh");
  CHECK(parse_mention(" @bob ", "alice") == "bob");
  CHECK(parse_mention("me", "alice") == "alice");
  CHECK(parse_mention("ME", "alice") == "alice");
  CHECK(parse_mention("@me", "alice") == "alice");
  CHECK_FALSE(parse_mention("me", "").has_value());
  for (const char* bad : {"", "@", "bob", "@@bob", "@b*b", "<@>", "<@|bob>", "<@U1", "<!channel>", "<#C123|general>",
                          "@here", "@channel", "@all", "@everyone", "<@U 1>", "@bob's"})
    CHECK_MESSAGE(!parse_mention(bad, "alice").has_value(), bad);
}

TEST_CASE("command: help texts") {
  const std::string overview = help_text();
  for (const char* group : {"During the incident", "Roles & milestones", "Postmortem material", "Action items", "Reports"})
    CHECK_MESSAGE(contains(overview, group), group);
  for (const char* sub : {"start", "sev", "role", "roles", "status", "update", "note", "mark", "summary", "impact", "why",
                          "factor", "learned", "action add", "action list", "action done", "action reopen",
                          "action snooze", "action reassign", "action drop", "resolve", "timeline", "postmortem",
                          "review", "stats", "help"})
    CHECK_MESSAGE(contains(overview, "`"s + sub), sub);
  for (severity s : {severity::sev1, severity::sev2, severity::sev3, severity::sev4, severity::near_miss})
    CHECK(contains(overview, describe(s)));
  CHECK(contains(overview, "`severity` = `sev`"));
  CHECK(valid_utf8(overview));

  for (const char* topic : {"start", "sev", "role", "roles", "status", "update", "note", "mark", "summary", "impact", "why",
                            "factor", "learned", "action", "resolve", "timeline", "postmortem", "review", "stats", "help"}) {
    const std::string h = help_text(topic);
    INFO(topic);
    CHECK(h.starts_with("Usage:\n`/incident "s + topic));
    CHECK(contains(h, "Example: `/incident "s + topic));
    CHECK(h.size() < 1500);
    CHECK(valid_utf8(h));
  }
  CHECK(help_text("severity") == help_text("sev"));
  CHECK(help_text("lesson") == help_text("learned"));
  CHECK(help_text("actions") == help_text("action"));
  CHECK(help_text("Action add") == help_text("action"));
  CHECK(help_text("/incident mark") == help_text("mark"));
  CHECK(help_text("  ") == overview);

  const std::string mark = help_text("mark");
  CHECK(contains(mark, "time to detect = detected − began"));
  CHECK(contains(mark, "measured from detected"));
  for (const char* m : {"began", "detected", "acknowledged", "mitigated", "resolved"}) CHECK(contains(mark, m));
  const std::string role_help = help_text("role");
  for (role r : {role::commander, role::scribe, role::facilitator}) CHECK(contains(role_help, describe(r)));
  const std::string action = help_text("action");
  for (const char* verb : {"add", "list", "done", "reopen", "snooze", "reassign", "drop"})
    CHECK(contains(action, "/incident action "s + verb));
  CHECK(contains(help_text("sev"), describe(severity::near_miss)));

  const std::string unknown = help_text("bogus");
  CHECK(unknown.starts_with("No help for `bogus`."));
  CHECK(contains(unknown, overview));
  CHECK(help_text("strat").starts_with("No help for `strat`. Did you mean `start`?"));
}

TEST_CASE("command: robust against any input") {
  SUBCASE("odd bytes are cleaned, valid unicode is kept") {
    CHECK(parsed<cmd::note>("note caf\xC3\xA9 \xE2\x9C\x85").text == "caf\xC3\xA9 \xE2\x9C\x85");
    CHECK(parsed<cmd::note>("note a\xFF" "b").text == "a\xEF\xBF\xBD" "b");
    CHECK(parsed<cmd::note>("note a\xC3").text == "a\xEF\xBF\xBD");
    CHECK(parsed<cmd::note>("note a\xED\xA0\x80z").text == "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");  // a surrogate
    CHECK(parsed<cmd::note>("note a"s + '\0' + "b\x07" "c").text == "abc");
    CHECK(parsed<cmd::set_severity>("sev\xC2\xA0sev2").level == severity::sev2);  // no-break space
  }
  SUBCASE("huge input") {
    const std::string big = "note " + std::string(1 << 20, 'x');
    CHECK(parsed<cmd::note>(big).text.size() == 1u << 20);
    std::string many = "start";
    for (int i = 0; i < 100000; ++i) many += " w";
    CHECK(parsed<cmd::start>(many).title.size() == 199999u);
    CHECK_FALSE(parse_command(std::string(1 << 20, ' ') + "strat", utc()).ok());
  }
  SUBCASE("random garbage and random grammar words") {
    std::mt19937 rng{20261120};
    const std::vector<std::string> words{
        "start", "sev", "severity", "role", "roles", "status", "update", "note", "mark", "summary", "impact", "why",
        "factor", "learned", "lesson", "action", "actions", "add", "list", "done", "reopen", "snooze", "reassign",
        "drop", "resolve", "timeline", "postmortem", "review", "stats", "help", "sev1", "near-miss", "commander",
        "@bob", "<@U1|x>", "me", "@me", "due:+3d", "due:2026-02-30", "due:", "kind:fix", "kind:", "service:",
        "service:db", "#3", "A0", "-1", "99999999999999999999", "1w", "0d", "12:00", "23:59", "2026-11-20",
        "2026-11-20T10:00:00Z", "now", "ack", "began", "process", "helped", "`", "\xFF", "\xC2\xA0", "?", "-h",
        "--help", "/incident", "\n", "🔥", ""};
    const parse_context ctxs[] = {utc(), berlin(), {"", at("1970-01-01T00:00:00Z"), "Not/A_Zone"},
                                  {"u", at("2026-03-29T01:30:00Z"), "Europe/Berlin"}};
    int ok = 0;
    int errors = 0;
    for (int i = 0; i < 3000; ++i) {
      std::string text;
      if (i % 2 == 0) {
        const std::size_t len = rng() % 64;
        for (std::size_t k = 0; k < len; ++k) text += static_cast<char>(rng() % 256);
      } else {
        const std::size_t n = rng() % 7;
        for (std::size_t k = 0; k < n; ++k) text += words[rng() % words.size()] + (rng() % 5 == 0 ? "  " : " ");
      }
      const parse_context& ctx = ctxs[static_cast<std::size_t>(i) % std::size(ctxs)];
      parse_result r;
      CHECK_NOTHROW(r = parse_command(text, ctx));
      CHECK(r.ok() != r.error.has_value());
      if (r.ok()) {
        ++ok;
      } else {
        ++errors;
        CHECK_FALSE(r.error->message.empty());
        CHECK(valid_utf8(r.error->message));
        CHECK(r.error->message.find('\0') == std::string::npos);
      }
      CHECK_NOTHROW((void)help_text(text));
    }
    CHECK(ok > 100);
    CHECK(errors > 100);
  }
}

}  // TEST_SUITE
