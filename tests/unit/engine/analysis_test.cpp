// The postmortem material: summary, impact, whys, factors, lessons, review; and the blameless nudge.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

TEST_SUITE("engine analysis") {

TEST_CASE("summary and impact are stored, writing again replaces them") {
  bot b;
  b.start_db("inc-db");
  auto out = b.cmd("alice", "inc-db", "summary Checkout failed for 40 minutes after a config change", t(60));
  CHECK(show(out) == "post #inc-db | Summary saved for the postmortem: Checkout failed for 40 minutes after a config change\n");
  CHECK(b.inc(1).summary == "Checkout failed for 40 minutes after a config change");

  out = b.cmd("bob", "inc-db", "summary Checkout failed for 42 minutes after a config change", t(61));
  CHECK(show(out) == "post #inc-db | Summary updated for the postmortem: Checkout failed for 42 minutes after a config change\n");
  CHECK(b.inc(1).summary == "Checkout failed for 42 minutes after a config change");

  out = b.cmd("carol", "inc-db", "impact About 12% of orders failed between 10:05 and 10:45", t(62));
  CHECK(show(out) == "post #inc-db | Impact saved for the postmortem: About 12% of orders failed between 10:05 and 10:45\n");
  CHECK(b.inc(1).impact == "About 12% of orders failed between 10:05 and 10:45");
  CHECK(b.inc(1).summary == "Checkout failed for 42 minutes after a config change");

  const auto an = b.entries_of(entry_kind::analysis);
  REQUIRE(an.size() == 3);
  CHECK(an[0].text == "Summary written by <@alice>");
  CHECK(an[0].at == t(60));
  CHECK(an[1].text == "Summary updated by <@bob>");
  CHECK(an[2].text == "Impact written by <@carol>");
  CHECK(an[2].author == "kintsugi");
}

TEST_CASE("whys are numbered 1..n in the order they are asked") {
  bot b;
  b.start_db("inc-db");
  const char* texts[] = {"The certificate expired", "The renewal job failed silently", "It had no alert",
                         "Alerts are added by hand per job", "There is no template for scheduled jobs",
                         "The platform team owns no job inventory"};
  std::vector<actions> replies;
  for (int k = 0; k < 6; ++k)
    replies.push_back(b.cmd(k % 2 ? "bob" : "alice", "inc-db", std::string{"why "} + texts[k], t(60 + k)));

  const auto ws = b.db.whys(1);
  REQUIRE(ws.size() == 6);
  for (int k = 0; k < 6; ++k) {
    CAPTURE(k);
    const auto i = static_cast<std::size_t>(k);
    CHECK(ws[i].position == k + 1);
    CHECK(ws[i].text == texts[k]);
    CHECK(ws[i].author == (k % 2 ? "bob" : "alice"));
    CHECK(ws[i].at == t(60 + k));
    CHECK(ws[i].incident_id == 1);
  }
  CHECK(show(replies[0]) == "post #inc-db | Why #1: The certificate expired\nAnd why was that? `/incident why <text>`\n");
  CHECK(show(replies[3]) == "post #inc-db | Why #4: Alerts are added by hand per job\nAnd why was that? `/incident why <text>`\n");
  CHECK(show(replies[4]) == "post #inc-db | Why #5: There is no template for scheduled jobs\nThat's five. If a system cause is "
                            "in sight, name the contributing factors: `/incident factor "
                            "<people|process|technology|external> <text>`\n");
  CHECK(show(replies[5]) == "post #inc-db | Why #6: The platform team owns no job inventory\n");

  const auto an = b.entries_of(entry_kind::analysis);
  REQUIRE(an.size() == 6);
  CHECK(an[1].text == "Why #2: The renewal job failed silently");
  CHECK(an[1].at == t(61));
}

TEST_CASE("whys are counted per incident") {
  bot b;
  b.cmd("alice", "inc-a", "start A down", t0);
  b.cmd("alice", "inc-b", "start B down", t0);
  b.cmd("alice", "inc-a", "why one", t(1));
  b.cmd("alice", "inc-a", "why two", t(2));
  b.cmd("alice", "inc-b", "why first of b", t(3));
  REQUIRE(b.db.whys(2).size() == 1);
  CHECK(b.db.whys(2)[0].position == 1);
  CHECK(b.db.whys(1).back().position == 2);
}

TEST_CASE("factors keep their kind") {
  bot b;
  b.start_db("inc-db");
  auto out = b.cmd("bob", "inc-db", "factor technology The renewal job had no alert", t(70));
  CHECK(show(out) == "post #inc-db | Contributing factor (technology): The renewal job had no alert\n");
  b.cmd("bob", "inc-db", "factor process The runbook had no rollback step", t(71));
  b.cmd("bob", "inc-db", "factor external The CA changed its intermediate", t(72));
  b.cmd("bob", "inc-db", "factor people On-call was one person over a holiday", t(73));
  const auto fs = b.db.factors(1);
  REQUIRE(fs.size() == 4);
  CHECK(fs[0].kind == factor_kind::technology);
  CHECK(fs[0].text == "The renewal job had no alert");
  CHECK(fs[0].author == "bob");
  CHECK(fs[0].at == t(70));
  CHECK(fs[1].kind == factor_kind::process);
  CHECK(fs[2].kind == factor_kind::external);
  CHECK(fs[3].kind == factor_kind::people);
  CHECK(b.entries_of(entry_kind::analysis)[1].text == "Contributing factor (process): The runbook had no rollback step");
}

TEST_CASE("lessons keep their kind and are announced with its heading") {
  bot b;
  b.start_db("inc-db");
  CHECK(show(b.cmd("carol", "inc-db", "learned helped The dashboard link in the alert", t(80))) ==
        "post #inc-db | Lesson, what helped: The dashboard link in the alert\n");
  CHECK(show(b.cmd("carol", "inc-db", "learned slowed Finding the runbook took 10 minutes", t(81))) ==
        "post #inc-db | Lesson, what slowed us down: Finding the runbook took 10 minutes\n");
  CHECK(show(b.cmd("carol", "inc-db", "lesson different Page the database team at once", t(82))) ==
        "post #inc-db | Lesson, what we would do differently: Page the database team at once\n");
  CHECK(show(b.cmd("carol", "inc-db", "learned knowledge The replica lags 30 s under load", t(83))) ==
        "post #inc-db | Lesson, what we know now: The replica lags 30 s under load\n");
  const auto ls = b.db.lessons(1);
  REQUIRE(ls.size() == 4);
  CHECK(ls[0].kind == lesson_kind::helped);
  CHECK(ls[1].kind == lesson_kind::slowed);
  CHECK(ls[2].kind == lesson_kind::different);
  CHECK(ls[3].kind == lesson_kind::knowledge);
  CHECK(ls[3].text == "The replica lags 30 s under load");
  CHECK(ls[3].author == "carol");
  CHECK(ls[3].at == t(83));
}

TEST_CASE("review: scheduled, then moved, the facilitator is named when there is one") {
  bot b;
  b.start_db("inc-db");
  auto out = b.cmd("alice", "inc-db", "review 2026-11-23 14:00", t(90));
  CHECK(show(out) == "post #inc-db | 🗓 Postmortem review scheduled for 2026-11-23 14:00 UTC. No facilitator yet: "
                     "`/incident role facilitator me` to run it.\n");
  REQUIRE(b.inc(1).review_at.has_value());
  CHECK(*b.inc(1).review_at == at("2026-11-23T14:00:00Z"));
  auto rv = b.entries_of(entry_kind::review);
  REQUIRE(rv.size() == 1);
  CHECK(rv[0].text == "Review scheduled for 2026-11-23 14:00 UTC by <@alice>");
  CHECK(rv[0].at == t(90));

  b.cmd("alice", "inc-db", "role facilitator @carol", t(91));
  out = b.cmd("bob", "inc-db", "review 2026-11-24 10:00", t(92));
  CHECK(show(out) == "post #inc-db | 🗓 Postmortem review moved to 2026-11-24 10:00 UTC. <@carol> facilitates; the aim is "
                     "learning, not blame.\n");
  CHECK(*b.inc(1).review_at == at("2026-11-24T10:00:00Z"));
  rv = b.entries_of(entry_kind::review);
  REQUIRE(rv.size() == 2);
  CHECK(rv[1].text == "Review moved to 2026-11-24 10:00 UTC by <@bob>");
}

TEST_CASE("a review time already passed is a parse error") {
  bot b;
  b.start_db("inc-db");
  const auto e = only_ephemeral(b.cmd("alice", "inc-db", "review 2026-11-19 14:00", t(90)));
  CHECK(contains(e.text, "has already passed"));
  CHECK_FALSE(b.inc(1).review_at.has_value());
}

TEST_CASE("material can still be added after resolve") {
  bot b;
  b.start_db("general");
  b.cmd("alice", "general", "resolve", t(30));
  b.cmd("alice", "general", "why The cert expired", t(40));
  CHECK(b.db.whys(1).size() == 1);
}

}  // TEST_SUITE

TEST_SUITE("engine blameless nudge") {

TEST_CASE("a why that makes a person in the incident the subject of a failure gets a nudge, for its author only") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role scribe @bob", t(1));
  const auto out = b.cmd("carol", "inc-db", "why bob forgot to renew the cert", t(60));
  INFO(show(out));
  REQUIRE(out.size() == 2);
  CHECK(show(out[0]) == "post #inc-db | Why #1: bob forgot to renew the cert\nAnd why was that? `/incident why <text>`");
  REQUIRE(std::holds_alternative<post_ephemeral>(out[1]));
  const auto nudge = std::get<post_ephemeral>(out[1]);
  CHECK(nudge.user == "carol");
  CHECK(nudge.channel == "inc-db");
  CHECK(nudge.text.starts_with("A blameless nudge: \""));
  CHECK(contains(nudge.text, "bob forgot"));
  CHECK(contains(nudge.text, "\" reads as blame. "));
  CHECK(b.db.whys(1)[0].text == "bob forgot to renew the cert");  // stored as written
}

TEST_CASE("the declarer and action owners count as people in the incident, display names too") {
  bot b;
  b.db.upsert_user(user{"U42", "Dana", ""});
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "action add Add an alert to the renewal job @U42", t(5));
  SUBCASE("the declarer") {
    const auto out = b.cmd("carol", "inc-db", "why alice forgot the canary", t(60));
    CHECK(of_kind<post_ephemeral>(out).size() == 1);
  }
  SUBCASE("an owner by display name") {
    const auto out = b.cmd("carol", "inc-db", "why Dana forgot the canary", t(60));
    REQUIRE(of_kind<post_ephemeral>(out).size() == 1);
    CHECK(contains(of_kind<post_ephemeral>(out)[0].text, "Dana forgot"));
  }
}

TEST_CASE("neutral text gets no nudge") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role scribe @bob", t(1));
  for (const std::string text :
       {"why The renewal job had no alert", "summary The certificate renewal job failed silently",
        "factor process The deploy went out without a canary", "learned helped bob's dashboard link",
        "update bob is restarting the primary"}) {
    CAPTURE(text);
    const auto out = b.cmd("carol", "inc-db", text, t(60));
    CHECK(of_kind<post_ephemeral>(out).empty());
    CHECK(of_kind<post_message>(out).size() == 1);
  }
}

TEST_CASE("blame words in other material get the nudge too") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role scribe @bob", t(1));
  for (const std::string text :
       {"summary The outage happened because bob forgot to renew the cert", "impact bob should have checked the expiry",
        "factor people bob was careless with the config", "learned different bob should have asked for help",
        "note bob forgot to renew the cert"}) {
    CAPTURE(text);
    const auto out = b.cmd("carol", "inc-db", text, t(60));
    const auto nudges = of_kind<post_ephemeral>(out);
    REQUIRE(nudges.size() == 1);
    CHECK(nudges[0].user == "carol");
    CHECK(nudges[0].text.starts_with("A blameless nudge: "));
  }
}

}  // TEST_SUITE
