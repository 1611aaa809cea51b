// Events that only chat platforms send: pins, channels they created for us, directory updates, joins and leaves.
#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "engine_fixture.hpp"

using namespace kintsugi::core;
using namespace kintsugi::test::engine_fx;

TEST_SUITE("engine platform events") {
  TEST_CASE("a pinned message is a key event, a pin of something not captured changes nothing") {
    bot b;
    b.start_db("inc-db");
    b.say("m1", "bob", "inc-db", "disk full on db-1", t(2));
    CHECK_FALSE(b.entry("m1").key);
    CHECK(b.send(message_pinned{"m1", "carol", t(3)}).empty());
    CHECK(b.entry("m1").key);
    auto before = b.timeline();
    CHECK(b.send(message_pinned{"nope", "carol", t(4)}).empty());
    CHECK(b.timeline().size() == before.size());
    // The same pin delivered twice is one pin.
    b.send(message_pinned{"m1", "carol", t(3)});
    CHECK(b.outcome().duplicate);
  }

  TEST_CASE("a channel created by the platform rebinds the incident to the channel's id") {
    bot b{with_channels()};
    b.cmd("alice", "general", "start Payments down sev1", t(0));
    auto name = b.inc().channel;
    REQUIRE(name.starts_with("inc-"));
    b.send(channel_created{name, "C0NEW", t(1)});
    CHECK(b.inc().channel == "C0NEW");
    CHECK(b.inc().origin_channel == "general");
    // Messages now arrive with the id, and are captured.
    b.say("m1", "bob", "C0NEW", "checking the gateway", t(2));
    CHECK(b.entry("m1").incident_id == 1);
    // Commands in the channel find the incident by id.
    auto out = b.cmd("bob", "C0NEW", "role commander me", t(3));
    CHECK(b.inc().holder(role::commander) == "bob");
    // An unknown name, or an id equal to the name, changes nothing.
    b.send(channel_created{"inc-unknown", "C0OTHER", t(4)});
    b.send(channel_created{"C0NEW", "C0NEW", t(5)});
    CHECK(b.inc().channel == "C0NEW");
  }

  TEST_CASE("joins and leaves of an incident channel are system entries on its timeline, each once") {
    engine_options o;
    o.bot_user = "UBOT";
    bot b{o};
    b.send(member_joined{"inc-db", "U1", t(-5)});  // no incident there yet: nothing to record
    b.start_db("inc-db");
    const auto before = b.entries_of(entry_kind::system).size();
    CHECK(b.send(member_joined{"inc-db", "U2", t(1)}).empty());
    // The same join again (a redelivery): the inbox folds it.
    b.send(member_joined{"inc-db", "U2", t(1)});
    CHECK(b.outcome().duplicate);
    // Told a second time with another time (Slack's channel_join message after member_joined_channel): once.
    b.send(member_joined{"inc-db", "U2", t(1) + std::chrono::milliseconds{300}});
    CHECK_FALSE(b.outcome().duplicate);
    b.send(member_left{"inc-db", "U2", t(3)});
    b.send(member_joined{"inc-db", "U2", t(4)});  // back again: a new join
    b.send(member_left{"inc-db", "U2", t(4) + std::chrono::seconds{20}});
    b.send(member_joined{"inc-db", "UBOT", t(5)});  // the bot itself
    b.send(member_joined{"elsewhere", "U3", t(5)});  // not an incident channel
    auto system = b.entries_of(entry_kind::system);
    REQUIRE(system.size() == before + 4);
    std::vector<std::string> texts;
    for (auto k = before; k < system.size(); ++k) texts.push_back(system[k].text);
    CHECK(texts == std::vector<std::string>{"<@U2> joined the channel", "<@U2> left the channel",
                                            "<@U2> joined the channel", "<@U2> left the channel"});
    CHECK(system[before].at == t(1));
    CHECK(system[before].author == bot_author);
    CHECK(b.entries_of(entry_kind::message).empty());
    CHECK(idempotency_key(member_joined{"C1", "U2", t(1)}) != idempotency_key(member_left{"C1", "U2", t(1)}));
  }

  TEST_CASE("directory updates fill in names and time zones") {
    bot b;
    b.send(user_updated{user{"U1", "Alice", "Europe/Berlin"}, t(0)});
    auto u = b.db.find_user("U1");
    REQUIRE(u.has_value());
    CHECK(u->display_name == "Alice");
    CHECK(u->tz == "Europe/Berlin");
    b.send(user_updated{user{"U1", "Alice B.", "America/New_York"}, t(1)});
    CHECK(b.db.find_user("U1")->display_name == "Alice B.");
    CHECK(b.db.find_user("U1")->tz == "America/New_York");
    // Times U1 types are now read in New York.
    b.start_db("inc-db");
    b.cmd("U1", "inc-db", "mark began 04:30", t(5));  // 09:35 UTC is 04:35 in New York
    REQUIRE(b.inc().at(milestone::began).has_value());
    CHECK(format_iso(*b.inc().at(milestone::began)).ends_with("09:30:00Z"));
  }

  TEST_CASE("a channel's name from the platform is kept, and a created channel is known by its name") {
    bot b{with_channels()};
    b.send(channel_updated{channel_info{"C1", "inc-db"}, t(0)});
    REQUIRE(b.db.find_channel("C1").has_value());
    CHECK(b.db.find_channel("C1")->name == "inc-db");
    b.send(channel_updated{channel_info{"C1", "inc-db-renamed"}, t(1)});
    CHECK(b.db.find_channel("C1")->name == "inc-db-renamed");
    // Without a name nothing is learned.
    b.send(channel_updated{channel_info{"C2", ""}, t(1)});
    CHECK_FALSE(b.db.find_channel("C2").has_value());

    b.cmd("alice", "general", "start Payments down sev1", t(2));
    const auto name = b.inc().channel;
    b.send(channel_created{name, "C0NEW", t(3)});
    REQUIRE(b.db.find_channel("C0NEW").has_value());
    CHECK(b.db.find_channel("C0NEW")->name == name);
  }

  TEST_CASE("an incident declared from a second platform gets its channel created on that platform") {
    bot b{with_channels()};
    const auto out = b.cmd("mm:alice", "mm:town-square", "start Payments down sev1", t(0));
    const std::string name = "mm:inc-20261120-payments-down";
    CHECK(b.inc().channel == name);
    REQUIRE_FALSE(out.empty());
    CHECK(show(out[0]) == "create #" + name);
    // Everything said about it goes to that platform.
    for (const auto& a : out) {
      CAPTURE(show(a));
      CHECK(route_of(a) == mattermost_route);
    }
    b.send(channel_created{name, "mm:ch0123456789abcdefghijklmn", t(1)});
    CHECK(b.inc().channel == "mm:ch0123456789abcdefghijklmn");
    // The channel is called by its own name there, without the route.
    CHECK(b.db.find_channel("mm:ch0123456789abcdefghijklmn")->name == "inc-20261120-payments-down");
  }

  TEST_CASE("documents call channels by the names the platform told") {
    bot b;
    b.start_db("C1");
    b.say("m1", "bob", "C1", "moving the talk from <#C9> here", t(2));
    auto before = load_record(b.db, 1);
    REQUIRE(before.has_value());
    CHECK(before->channel_name().empty());
    CHECK(render_postmortem_markdown(*before).find("**Channel:**") == std::string::npos);

    b.send(channel_updated{channel_info{"C1", "inc-db"}, t(3)});
    b.send(channel_updated{channel_info{"C9", "ops"}, t(3)});
    auto after = load_record(b.db, 1);
    REQUIRE(after.has_value());
    CHECK(after->channel_name() == "inc-db");
    const auto doc = render_postmortem_markdown(*after);
    CHECK(doc.find("**Channel:** #inc-db") != std::string::npos);
    CHECK(doc.find("moving the talk from #ops here") != std::string::npos);
  }
}
