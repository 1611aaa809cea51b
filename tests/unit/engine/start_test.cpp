// /incident start: where the incident is run, what the bot says, what it stores.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

const std::string topic_new = "🚨 INC-1 sev3 · investigating · commander: open · scribe: open · facilitator: open";

const std::string welcome_db_down =
    "🚨 *INC-1: DB down* — sev3 (minor: partial degradation for some users, a workaround exists)\n"
    "Declared by <@alice> at 10:00 UTC. Everything said here goes on the timeline, with exact times; react with 📌 to "
    "mark a key event.\n"
    "Three roles keep this calm:\n"
    "• *Commander* — coordinates the response, makes the calls and keeps updates flowing\n"
    "• *Scribe* — keeps the record: decisions, times and links on the timeline\n"
    "• *Facilitator* — runs the review afterwards and keeps it blameless\n"
    "Who takes them? `/incident role commander me` (likewise scribe, facilitator). `/incident help` lists everything.\n"
    "Severity defaults to sev3; change it with `/incident sev <level>`.";

}  // namespace

TEST_SUITE("engine start") {

TEST_CASE("start in a plain channel runs the incident there, not dedicated") {
  bot b;
  const auto out = b.cmd("alice", "general", "start DB down", t0);
  CHECK(b.outcome().error.empty());
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(show(out) == "post #general | " + welcome_db_down + "\ntopic #general | " + topic_new + "\n");

  const incident i = b.inc(1);
  CHECK(i.key() == "INC-1");
  CHECK(i.title == "DB down");
  CHECK(i.level == severity::sev3);
  CHECK(i.status == incident_status::investigating);
  CHECK(i.channel == "general");
  CHECK(i.origin_channel == "general");
  CHECK_FALSE(i.dedicated_channel);
  CHECK(i.declared_by == "alice");
  CHECK(i.declared_at == t0);
  CHECK(i.service.empty());
  for (const auto& r : i.roles) CHECK(r.empty());
  CHECK(i.summary.empty());
  CHECK(i.impact.empty());
  CHECK_FALSE(i.review_at.has_value());
  CHECK(b.db.incident_in_channel("general")->id == 1);
}

TEST_CASE("start records `detected` at the start time and only that milestone") {
  bot b;
  b.cmd("alice", "general", "start DB down", t(7));
  const incident i = b.inc(1);
  REQUIRE(i.at(milestone::detected).has_value());
  CHECK(*i.at(milestone::detected) == t(7));
  CHECK_FALSE(i.at(milestone::began).has_value());
  CHECK_FALSE(i.at(milestone::acknowledged).has_value());
  CHECK_FALSE(i.at(milestone::mitigated).has_value());
  CHECK_FALSE(i.at(milestone::resolved).has_value());
}

TEST_CASE("start puts one key system entry on the timeline") {
  bot b;
  b.start_db("inc-db");
  const auto tl = b.timeline();
  REQUIRE(tl.size() == 1);
  CHECK(tl[0].kind == entry_kind::system);
  CHECK(tl[0].author == "kintsugi");
  CHECK(tl[0].at == t0);
  CHECK(tl[0].key);
  CHECK(tl[0].text == "INC-1 declared by <@alice>: DB down (sev3)");
  CHECK(tl[0].incident_id == 1);
}

TEST_CASE("start in a channel with the prefix makes it the incident's own channel") {
  bot b;
  const auto out = b.cmd("alice", "inc-db", "start DB down", t0);
  CHECK(show(out) == "post #inc-db | " + welcome_db_down + "\ntopic #inc-db | " + topic_new + "\n");
  const incident i = b.inc(1);
  CHECK(i.channel == "inc-db");
  CHECK(i.origin_channel == "inc-db");
  CHECK(i.dedicated_channel);
}

TEST_CASE("a configured prefix decides what a dedicated channel is") {
  engine_options o;
  o.channel_prefix = "war-";
  bot b{o};
  b.cmd("alice", "inc-db", "start DB down", t0);
  b.cmd("alice", "war-db", "start DB down", t0);
  CHECK_FALSE(b.inc(1).dedicated_channel);
  CHECK(b.inc(2).dedicated_channel);
}

TEST_CASE("start with create_channel from general creates inc-YYYYMMDD-slug, invites, announces") {
  bot b{with_channels()};
  const auto out = b.cmd("alice", "general", "start Checkout errors: 502s! sev2", t0);
  const std::string ch = "inc-20261120-checkout-errors-502s";
  const auto lines = show(out);
  INFO(lines);
  REQUIRE(out.size() == 5);
  CHECK(show(out[0]) == "create #" + ch);
  CHECK(show(out[1]) == "invite #" + ch + " @alice");
  CHECK(show(out[2]) == "post #general | 🚨 INC-1 declared by <@alice>: *Checkout errors: 502s!* (sev2). Join <#" + ch +
                            "> to help.");
  REQUIRE(std::holds_alternative<post_message>(out[3]));
  const auto welcome = std::get<post_message>(out[3]);
  CHECK(welcome.channel == ch);
  CHECK(welcome.text.starts_with("🚨 *INC-1: Checkout errors: 502s!* — sev2 (major: "));
  CHECK_FALSE(contains(welcome.text, "Severity defaults to sev3"));  // a level was given
  CHECK(welcome.pin);  // the incident's header stays pinned in its channel
  CHECK_FALSE(std::get<post_message>(out[2]).pin);  // the announcement in general is not
  CHECK(show(out[4]) == "topic #" + ch + " | 🚨 INC-1 sev2 · investigating · commander: open · scribe: open · facilitator: open");

  const incident i = b.inc(1);
  CHECK(i.channel == ch);
  CHECK(i.origin_channel == "general");
  CHECK(i.dedicated_channel);
  CHECK(i.level == severity::sev2);
  CHECK(i.title == "Checkout errors: 502s!");
  CHECK(b.db.incident_in_channel(ch)->id == 1);
  CHECK_FALSE(b.db.incident_in_channel("general").has_value());
}

TEST_CASE("a second start with the same title that day gets -2, then -3, the next day starts over") {
  bot b{with_channels()};
  b.cmd("alice", "general", "start Checkout errors", t0);
  const auto second = b.cmd("bob", "general", "start Checkout errors", t(30));
  const auto third = b.cmd("carol", "random", "start Checkout errors", t(60));
  const auto next_day = b.cmd("carol", "general", "start Checkout errors", t(24 * 60));
  CHECK(b.inc(1).channel == "inc-20261120-checkout-errors");
  CHECK(b.inc(2).channel == "inc-20261120-checkout-errors-2");
  CHECK(b.inc(3).channel == "inc-20261120-checkout-errors-3");
  CHECK(b.inc(4).channel == "inc-20261121-checkout-errors");
  REQUIRE_FALSE(second.empty());
  CHECK(show(second.front()) == "create #inc-20261120-checkout-errors-2");
  CHECK(show(second[1]) == "invite #inc-20261120-checkout-errors-2 @bob");
  REQUIRE_FALSE(third.empty());
  CHECK(show(third.front()) == "create #inc-20261120-checkout-errors-3");
  CHECK(show(third[2]) == "post #random | 🚨 INC-3 declared by <@carol>: *Checkout errors* (sev3). Join "
                          "<#inc-20261120-checkout-errors-3> to help.");
  REQUIRE_FALSE(next_day.empty());
  CHECK(show(next_day.front()) == "create #inc-20261121-checkout-errors");
}

TEST_CASE("channel names stay within 60 characters and fall back to `incident` for a title without letters") {
  bot b{with_channels()};
  const std::string long_title = "The primary database cluster in eu-west lost quorum after the network partition";
  b.cmd("alice", "general", "start " + long_title, t0);
  b.cmd("alice", "general", "start " + long_title, t(1));
  b.cmd("alice", "general", "start ??? !!!", t(2));
  const auto first = b.inc(1).channel;
  const auto second = b.inc(2).channel;
  CHECK(first == "inc-20261120-the-primary-database-cluster-in-eu-west-lost-qu");
  CHECK(first.size() <= 60);
  CHECK(second == "inc-20261120-the-primary-database-cluster-in-eu-west-los-2");
  CHECK(second.size() <= 60);
  CHECK(b.inc(3).channel == "inc-20261120-incident");
}

TEST_CASE("start from an incident channel with create_channel uses that channel") {
  bot b{with_channels()};
  const auto out = b.cmd("alice", "inc-db", "start DB down", t0);
  CHECK(of_kind<create_channel>(out).empty());
  CHECK(of_kind<invite_user>(out).empty());
  CHECK(b.inc(1).channel == "inc-db");
  CHECK(b.inc(1).dedicated_channel);
}

TEST_CASE("start while one is open in the channel: an ephemeral error and nothing created") {
  for (const std::string channel : {"general", "inc-db"}) {
    CAPTURE(channel);
    bot b;
    b.cmd("alice", channel, "start DB down", t0);
    const auto out = b.cmd("bob", channel, "start Checkout slow sev1", t(5));
    const auto e = only_ephemeral(out);
    CHECK(e.channel == channel);
    CHECK(e.user == "bob");
    CHECK(e.text == "INC-1 (DB down) is still open in this channel. Resolve it first with `/incident resolve`, or "
                    "declare the new one from another channel.");
    CHECK_FALSE(b.db.find_incident(2).has_value());
    CHECK(b.db.open_incidents().size() == 1);
    CHECK(b.timeline(1).size() == 1);
    CHECK(b.inc(1).level == severity::sev3);
  }
}

TEST_CASE("start again after the channel's incident is resolved declares a new one there") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "resolve", t(30));
  b.cmd("bob", "inc-db", "start DB down again", t(60));
  CHECK(b.inc(2).channel == "inc-db");
  CHECK(b.inc(2).declared_by == "bob");
  CHECK(b.db.incident_in_channel("inc-db")->id == 2);
}

TEST_CASE("an explicit severity replaces the default and drops the hint") {
  bot b;
  const auto out = b.cmd("alice", "general", "start Payments down sev1", t0);
  CHECK(b.inc(1).level == severity::sev1);
  CHECK(b.inc(1).title == "Payments down");
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text.starts_with("🚨 *INC-1: Payments down* — sev1 (critical: a core service is down or data is at risk "
                                  "for many users)\n"));
  CHECK_FALSE(contains(posts[0].text, "Severity defaults"));
  CHECK(b.timeline()[0].text == "INC-1 declared by <@alice>: Payments down (sev1)");
}

TEST_CASE("near-miss is a severity of its own") {
  bot b;
  b.cmd("alice", "general", "start Almost deleted the backups near-miss", t0);
  CHECK(b.inc(1).level == severity::near_miss);
  CHECK(b.inc(1).title == "Almost deleted the backups");
}

TEST_CASE("the service tag is stored and left out of the title") {
  bot b;
  b.cmd("alice", "general", "start Payments slow service:payments sev2", t0);
  const incident i = b.inc(1);
  CHECK(i.service == "payments");
  CHECK(i.title == "Payments slow");
  CHECK(i.level == severity::sev2);
}

TEST_CASE("the welcome names the three roles with what each does") {
  bot b;
  const auto out = b.start_db("inc-db");
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  for (role r : {role::commander, role::scribe, role::facilitator}) {
    std::string title{name(r)};
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
    CHECK(contains(posts[0].text, "• *" + title + "* — " + std::string{describe(r)} + "\n"));
  }
}

TEST_CASE("the topic is set on the incident channel") {
  bot b;
  const auto out = b.start_db("inc-db");
  const auto topics = of_kind<set_topic>(out);
  REQUIRE(topics.size() == 1);
  CHECK(topics[0].channel == "inc-db");
  CHECK(topics[0].text == topic_new);
}

TEST_CASE("incident ids count up across channels") {
  bot b;
  b.cmd("alice", "inc-a", "start A down", t0);
  b.cmd("alice", "inc-b", "start B down", t(1));
  CHECK(b.inc(1).channel == "inc-a");
  CHECK(b.inc(2).channel == "inc-b");
  CHECK(b.inc(2).key() == "INC-2");
}

}  // TEST_SUITE
