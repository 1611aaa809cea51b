#include "core/metrics.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "record_builders.hpp"

using namespace kintsugi::core;
using namespace kintsugi::test::records;

namespace {

const timestamp now = at(2026, 11, 30, 12, 0);

incident make(id ident, timestamp declared, severity level, std::string title, std::string service = {}) {
  incident i;
  i.id = ident;
  i.declared_at = declared;
  i.level = level;
  i.title = std::move(title);
  i.service = std::move(service);
  i.status = incident_status::resolved;
  return i;
}

action_item make_action(id ident, id incident_id, action_status status, std::optional<date> due,
                   std::optional<timestamp> closed = std::nullopt) {
  action_item a;
  a.id = ident;
  a.incident_id = incident_id;
  a.text = "item " + std::to_string(ident);
  a.owner = "U1";
  a.status = status;
  a.due = due;
  a.closed_at = closed;
  return a;
}

date day_of(int y, unsigned m, unsigned d) { return year{y} / month{m} / day{d}; }

}  // namespace

TEST_CASE("metrics come from the milestones") {
  incident i = make(1, now, severity::sev2, "x");
  const timestamp t = now;
  i.at(milestone::began) = t - minutes{10};
  i.at(milestone::detected) = t - minutes{5};
  i.at(milestone::acknowledged) = t + minutes{2};
  i.at(milestone::mitigated) = t + minutes{30};
  i.at(milestone::resolved) = t + hours{1} + minutes{15};
  auto m = metrics_of(i);
  CHECK(m.to_detect == dur{minutes{5}});
  CHECK(m.to_acknowledge == dur{minutes{7}});
  CHECK(m.to_mitigate == dur{minutes{35}});
  CHECK(m.to_resolve == dur{minutes{80}});

  // Without a detection mark the declaration stands in; without `began` there is no time to detect.
  i.at(milestone::detected).reset();
  i.at(milestone::began).reset();
  m = metrics_of(i);
  CHECK_FALSE(m.to_detect.has_value());
  CHECK(m.to_acknowledge == dur{minutes{2}});
  CHECK(m.to_resolve == dur{minutes{75}});

  // Missing or out-of-order milestones give nothing rather than a negative number.
  i.at(milestone::mitigated).reset();
  i.at(milestone::acknowledged) = t - minutes{1};
  i.at(milestone::began) = t + minutes{1};
  i.at(milestone::detected) = t;
  m = metrics_of(i);
  CHECK_FALSE(m.to_detect.has_value());
  CHECK_FALSE(m.to_acknowledge.has_value());
  CHECK_FALSE(m.to_mitigate.has_value());
  CHECK(m.to_resolve == dur{minutes{75}});
}

TEST_CASE("stats over a window: counts, means, medians, repeats and actions") {
  std::vector<incident> incs;
  incs.push_back(make(1, now - days{20}, severity::sev1, "Database failover stalled on primary", "payments"));
  incs.push_back(make(2, now - days{10}, severity::sev2, "Primary database: failover slow!"));
  incs.push_back(make(3, now - days{5}, severity::sev2, "Checkout errors", " Payments "));
  incs.push_back(make(4, now - days{2}, severity::near_miss, "Cert expiry nearly missed"));
  incs.push_back(make(5, now - days{40}, severity::sev1, "Database failover stalled", "payments"));  // outside
  incs[3].status = incident_status::monitoring;
  for (auto& i : incs) i.at(milestone::detected) = i.declared_at;
  incs[0].at(milestone::acknowledged) = incs[0].declared_at + minutes{10};
  incs[1].at(milestone::acknowledged) = incs[1].declared_at + minutes{4};
  incs[2].at(milestone::acknowledged) = incs[2].declared_at + minutes{6};
  incs[0].at(milestone::resolved) = incs[0].declared_at + minutes{60};
  incs[1].at(milestone::resolved) = incs[1].declared_at + minutes{120};
  incs[4].at(milestone::resolved) = incs[4].declared_at + hours{50};
  incs[0].at(milestone::began) = incs[0].declared_at - minutes{3};

  std::vector<action_item> acts;
  acts.push_back(make_action(1, 1, action_status::done, day_of(2026, 11, 10), timestamp{sys_days{day_of(2026, 11, 10)}} + hours{23}));
  acts.push_back(make_action(2, 1, action_status::done, day_of(2026, 11, 5), timestamp{sys_days{day_of(2026, 11, 7)}}));
  acts.push_back(make_action(3, 1, action_status::open, day_of(2026, 11, 29)));  // overdue
  acts.push_back(make_action(4, 2, action_status::open, day_of(2026, 11, 30)));  // due today: not overdue
  acts.push_back(make_action(5, 2, action_status::dropped, day_of(2026, 11, 1)));
  acts.push_back(make_action(6, 3, action_status::done, std::nullopt, now - days{1}));
  acts.push_back(make_action(7, 5, action_status::open, day_of(2026, 10, 1)));  // incident outside the window

  const team_stats s = compute_stats(incs, acts, now, 30);
  CHECK(s.days == 30);
  CHECK(s.since == now - days{30});
  CHECK(s.incidents == 4);
  CHECK(s.open_incidents == 1);
  CHECK(s.by_severity[static_cast<std::size_t>(severity::sev1)] == 1);
  CHECK(s.by_severity[static_cast<std::size_t>(severity::sev2)] == 2);
  CHECK(s.by_severity[static_cast<std::size_t>(severity::near_miss)] == 1);
  CHECK(s.by_severity[static_cast<std::size_t>(severity::sev3)] == 0);

  CHECK(s.detect.count == 1);
  CHECK(s.detect.mean == dur{minutes{3}});
  CHECK(s.acknowledge.count == 3);
  CHECK(s.acknowledge.mean == dur{seconds{400}});  // (10 + 4 + 6) / 3 min
  CHECK(s.acknowledge.median == dur{minutes{6}});
  CHECK(s.resolve.count == 2);
  CHECK(s.resolve.mean == dur{minutes{90}});
  CHECK(s.resolve.median == dur{minutes{90}});
  CHECK(s.mitigate.count == 0);
  CHECK_FALSE(s.mitigate.mean.has_value());

  REQUIRE(s.repeats.size() == 2);
  CHECK(s.repeats[0].reason == "service payments");
  CHECK(s.repeats[0].incidents == std::vector<id>{1, 3});
  CHECK(s.repeats[1].reason == "title words: database, failover, primary");
  CHECK(s.repeats[1].incidents == std::vector<id>{1, 2});

  CHECK(s.actions == 6);
  CHECK(s.actions_open == 2);
  CHECK(s.actions_overdue == 1);
  CHECK(s.actions_closed == 3);
  CHECK(s.actions_closed_on_time == 1);
  REQUIRE(s.closed_on_time_pct.has_value());
  CHECK(*s.closed_on_time_pct == doctest::Approx(50.0));

  const std::string text = render_stats_text(s);
  CHECK(text ==
        "Last 30 days: 4 incidents (sev1 1, sev2 2, near-miss 1), 1 open\n"
        "Time to detect: mean 3m, median 3m (1 incident)\n"
        "Time to acknowledge: mean 6m 40s, median 6m (3 incidents)\n"
        "Time to mitigate: no data yet (/incident mark mitigated records it)\n"
        "Time to resolve: mean 1h 30m, median 1h 30m (2 incidents)\n"
        "Repeats: service payments (INC-1, INC-3); title words: database, failover, primary (INC-1, INC-2)\n"
        "Action items: 6 — 2 open (1 overdue), 3 closed, 50% on time\n");
  CHECK(s.fixes_checked == 0);
}

TEST_CASE("the look-back's answers: fixes that held, and those that regressed") {
  std::vector<incident> incs{make(1, now - days{9}, severity::sev2, "API gateway timeouts")};
  std::vector<action_item> acts;
  acts.push_back(make_action(1, 1, action_status::done, day_of(2026, 11, 29), now - days{1}));
  acts.push_back(make_action(2, 1, action_status::done, day_of(2026, 11, 29), now - days{1}));
  acts.push_back(make_action(3, 1, action_status::open, day_of(2026, 12, 29)));
  acts.push_back(make_action(4, 1, action_status::done, day_of(2026, 11, 29), now - days{1}));
  acts[0].fix_held = fix_check::held;
  acts[1].fix_held = fix_check::unsure;
  acts[2].fix_held = fix_check::regressed;  // reopened by the answer
  const team_stats s = compute_stats(incs, acts, now, 30);
  CHECK(s.fixes_checked == 3);
  CHECK(s.fixes_held == 1);
  CHECK(s.fixes_regressed == 1);
  CHECK(render_stats_text(s).ends_with("Fixes that held (90-day look-back): 1 of 3 answered, 1 regressed and reopened\n"));
}

TEST_CASE("title repeats: each incident in one group, stop and severity words ignored") {
  std::vector<incident> incs{
      make(1, now - days{9}, severity::sev2, "API gateway timeouts"),
      make(2, now - days{8}, severity::sev1, "sev1: the gateway timeouts again"),
      make(3, now - days{7}, severity::sev3, "Gateway TIMEOUTS for the API in EU"),
      make(4, now - days{6}, severity::sev3, "near miss: the near miss of the sev2 incident"),
      make(5, now - days{5}, severity::sev3, "Near-miss sev2 incident outage"),
      make(6, now - days{4}, severity::sev3, "DNS gateway down"),
  };
  const team_stats s = compute_stats(incs, {}, now, 30);
  REQUIRE(s.repeats.size() == 1);
  CHECK(s.repeats[0].reason == "title words: gateway, timeouts");
  CHECK(s.repeats[0].incidents == std::vector<id>{1, 2, 3});
}

TEST_CASE("medians of an even count, and no data said kindly") {
  std::vector<incident> incs;
  for (int k = 0; k < 4; ++k) {
    incident i = make(k + 1, now - days{k + 1}, severity::sev3, "title " + std::to_string(k));
    i.at(milestone::acknowledged) = i.declared_at + minutes{(k + 1) * 10};  // 10, 20, 30, 40
    incs.push_back(i);
  }
  incs[3].at(milestone::acknowledged) = incs[3].declared_at + minutes{100};  // 10, 20, 30, 100
  const team_stats s = compute_stats(incs, {}, now, 7);
  CHECK(s.acknowledge.median == dur{minutes{25}});
  CHECK(s.acknowledge.mean == dur{seconds{40 * 60}});
  CHECK_FALSE(s.closed_on_time_pct.has_value());
  const std::string text = render_stats_text(s);
  CHECK(text.find("Last 7 days: 4 incidents (sev3 4), 0 open\n") == 0);
  CHECK(text.find("Repeats: none seen") != std::string::npos);
  CHECK(text.find("Action items: none yet\n") != std::string::npos);

  const team_stats quiet = compute_stats({}, {}, now, 30);
  CHECK(quiet.incidents == 0);
  CHECK(render_stats_text(quiet) == "No incidents in the last 30 days — quiet is good.\n");
  CHECK(render_stats_text(compute_stats({}, {}, now, 1)) == "No incidents in the last day — quiet is good.\n");
}
