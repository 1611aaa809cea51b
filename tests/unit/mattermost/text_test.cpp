// Text between the core and Mattermost: core Markdown and mentions to Mattermost Markdown, @usernames back to core
// mentions.
#include "mattermost/text.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "core/mentions.hpp"
#include "mattermost/codec.hpp"

namespace mm = kintsugi::mattermost;
namespace core = kintsugi::core;

namespace {

const std::map<std::string, std::string, std::less<>> usernames{{"mm:alice00000000000000000000a", "alice"},
                                                               {"mm:bob0000000000000000000000b", "@bob"},
                                                               {"U123", "slackname"}};
const std::map<std::string, std::string, std::less<>> channels{{"mm:chan0000000000000000000001", "inc-20261121-db-down"}};

std::string lookup_in(const std::map<std::string, std::string, std::less<>>& m, std::string_view id) {
  auto it = m.find(id);
  return it == m.end() ? std::string{} : it->second;
}

std::string convert(std::string_view text) {
  return mm::to_mattermost_text(
      text, [](std::string_view id) { return lookup_in(usernames, id); },
      [](std::string_view id) { return lookup_in(channels, id); });
}

}  // namespace

TEST_SUITE("mattermost text: core to Mattermost") {
  TEST_CASE("people mentions") {
    CHECK(convert("<@mm:alice00000000000000000000a> is commander") == "@alice is commander");
    CHECK(convert("thanks <@mm:bob0000000000000000000000b>!") == "thanks @bob!");
    CHECK(convert("<@mm:zed00000000000000000000z>") == "@zed00000000000000000000z");  // unknown: the raw id
    CHECK(convert("<@mm:zed00000000000000000000z|Zed>") == "@Zed");                     // unknown with a label
    CHECK(convert("<@U123> and <@W999>") == "@slackname and @W999");                    // ids from elsewhere
    CHECK(convert("<@mm:alice00000000000000000000a|Alice L>") == "@alice");             // the lookup wins
  }

  TEST_CASE("channel mentions") {
    CHECK(convert("Join <#mm:chan0000000000000000000001> to help.") == "Join ~inc-20261121-db-down to help.");
    CHECK(convert("Join <#mm:chan0000000000000000000099>.") == "Join the incident channel.");
    CHECK(convert("in <#mm:chan0000000000000000000099|ops>") == "in ~ops");
    // A channel the core named before it existed.
    CHECK(convert("Join <#mm:inc-20261121-db-down>") == "Join ~inc-20261121-db-down");
    CHECK(convert("Join <#C01N9PM1D53>.") == "Join the incident channel.");
  }

  TEST_CASE("links and special mentions") {
    CHECK(convert("see <https://status.example.com/x?a=1&b=2|the status page>") ==
          "see [the status page](https://status.example.com/x?a=1&b=2)");
    CHECK(convert("<https://example.com>") == "https://example.com");
    CHECK(convert("<mailto:ops@example.com|mail ops>") == "[mail ops](mailto:ops@example.com)");
    CHECK(convert("<https://x.io|a [b] c>") == "[a \\[b\\] c](https://x.io)");
    CHECK(convert("<!here> <!channel> <!everyone> <!subteam^S1>") == "@here @channel @all <!subteam^S1>");
    CHECK(convert("[already](https://markdown.example)") == "[already](https://markdown.example)");
  }

  TEST_CASE("Slack's single markers become CommonMark") {
    CHECK(convert("🚨 *INC-7: db down* — sev1") == "🚨 **INC-7: db down** — sev1");
    CHECK(convert("• *Commander* — leads") == "• **Commander** — leads");
    CHECK(convert("Status: *monitoring*.") == "Status: **monitoring**.");
    CHECK(convert("09:00 ~old text~ (deleted)") == "09:00 ~~old text~~ (deleted)");
    CHECK(convert("*<@mm:alice00000000000000000000a>*") == "**@alice**");
    // CommonMark already, or not a marker at all.
    CHECK(convert("**bold** and ~~gone~~ and _it_") == "**bold** and ~~gone~~ and _it_");
    CHECK(convert("* a list item") == "* a list item");
    CHECK(convert("2*3*4 and a*b") == "2*3*4 and a*b");
    CHECK(convert("takes ~5 min, maybe ~10") == "takes ~5 min, maybe ~10");
    CHECK(convert("a * b * c") == "a * b * c");
    CHECK(convert("*unclosed") == "*unclosed");
    CHECK(convert("- **Impact:** users") == "- **Impact:** users");
  }

  TEST_CASE("code is copied unchanged") {
    CHECK(convert("run `*not bold* <@mm:alice00000000000000000000a>` now") ==
          "run `*not bold* <@mm:alice00000000000000000000a>` now");
    CHECK(convert("```\n*x* <#mm:chan0000000000000000000001>\n```\n*y*") ==
          "```\n*x* <#mm:chan0000000000000000000001>\n```\n**y**");
    CHECK(convert("a ` b *c*") == "a ` b **c**");  // an unmatched backtick is only a character
  }

  TEST_CASE("text that only looks similar stays") {
    CHECK(convert("a < b > c") == "a < b > c");
    CHECK(convert("<@ x> <@> <#> <>") == "<@ x> <@> <#> <>");
    CHECK(convert("<notalink|x>") == "<notalink|x>");
    CHECK(convert("") == "");
    CHECK(convert("line one\n\nline three\n") == "line one\n\nline three\n");
  }

  TEST_CASE("without lookups") {
    CHECK(mm::to_mattermost_text("<@mm:alice00000000000000000000a> in <#mm:chan0000000000000000000001>") ==
          "@alice00000000000000000000a in the incident channel");
  }
}

TEST_SUITE("mattermost text: Mattermost to core") {
  TEST_CASE("finding usernames") {
    CHECK(mm::find_usernames("@alice and @Bob.Smith, cc @carol_2-x.") ==
          std::vector<std::string>{"alice", "bob.smith", "carol_2-x"});
    CHECK(mm::find_usernames("@alice @alice @ALICE") == std::vector<std::string>{"alice"});
    CHECK(mm::find_usernames("@channel @here @all @everyone look").empty());
    CHECK(mm::find_usernames("mail ops@example.com or a@b.com").empty());
    CHECK(mm::find_usernames("@me @ab @1abc @_abc").empty());  // too short, or not starting with a letter
    CHECK(mm::find_usernames("@" + std::string(22, 'a')) == std::vector<std::string>{std::string(22, 'a')});
    CHECK(mm::find_usernames("@" + std::string(23, 'a')).empty());
    CHECK(mm::find_usernames("(@dave) [@erin]: @frank's") == std::vector<std::string>{"dave", "erin", "frank"});
    CHECK(mm::find_usernames("`@inside`\n```\n@block\n```\n@outside") == std::vector<std::string>{"outside"});
    CHECK(mm::find_usernames("@gina@example.com").empty());
    CHECK(mm::find_usernames("").empty());
    CHECK(mm::find_usernames("@").empty());
  }

  TEST_CASE("replacing usernames with core mentions") {
    const std::map<std::string, std::string> ids{{"alice", "alice00000000000000000000a"}, {"@Bob", "bob0000000000000000000000b"}};
    CHECK(mm::replace_usernames("role commander @alice.", ids) == "role commander <@mm:alice00000000000000000000a>.");
    CHECK(mm::replace_usernames("@BOB and @carol", ids) == "<@mm:bob0000000000000000000000b> and @carol");
    CHECK(mm::replace_usernames("ops@alice.com `@alice`", ids) == "ops@alice.com `@alice`");
    CHECK(mm::replace_usernames("no mentions", ids) == "no mentions");
    CHECK(mm::replace_usernames("@alice", {}) == "@alice");
    CHECK(mm::replace_usernames("@alice", {{"alice", ""}}) == "@alice");
  }

  TEST_CASE("mentions round trip: core -> Mattermost -> core") {
    const std::string core_text = "<@mm:alice00000000000000000000a> takes commander, <@mm:bob0000000000000000000000b> scribes.";
    const std::string shown = convert(core_text);
    CHECK(shown == "@alice takes commander, @bob scribes.");
    const auto names = mm::find_usernames(shown);
    CHECK(names == std::vector<std::string>{"alice", "bob"});
    std::map<std::string, std::string> ids;
    for (const auto& [core_id, name] : usernames) {
      if (auto plain = mm::from_core(core_id)) ids[name] = *plain;
    }
    CHECK(mm::replace_usernames(shown, ids) == core_text);
    // The core reads the mentions it gets back.
    std::vector<std::string> seen;
    core::for_each_mention(core_text, [&seen](char kind, std::string_view id) {
      if (kind == '@') seen.emplace_back(id);
    });
    CHECK(seen == std::vector<std::string>{"mm:alice00000000000000000000a", "mm:bob0000000000000000000000b"});
  }
}
