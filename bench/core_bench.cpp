// kintsugi-only scenarios of issue 6 that need no chat platform: `reminders` (100k open action items with reminders
// spread over a month: start-up time, time to fire 10k due reminders, peak RSS) and `postmortem` (an incident with
// 50k timeline entries: render time and peak RSS). Everything goes through the real engine and SQLite store on a
// file in a temporary directory; the set-up is not timed.
//
// `store` is a micro-benchmark of the storage thread, not a scenario of issue 6: chat messages in 10 channels,
// each with an open incident, go through the real dispatcher, engine and store (WAL, synchronous=FULL) in group
// commits of 20 and of 200 events. It reports the thread's CPU time per event (CPU, not wall time: the machine
// may be busy with other work), also split into user and kernel time, and the wall-clock events/s, which
// includes waiting for fdatasync.
//
// Usage: kintsugi_bench_core [--quick] [reminders|postmortem|store]...   (all when none is named)
// Prints one JSON object: {"scenarios":{"reminders":{…},"postmortem":{…},"store":{…}}}. --quick runs a tenth of
// the size.
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "core/time.hpp"
#include "storage/sqlite_store.hpp"

namespace {

using namespace kintsugi;
using clock_type = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Peak resident set of this process so far, in MiB (Linux reports ru_maxrss in KiB).
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// A directory of its own under /tmp, removed at the end.
struct scratch_dir {
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kintsugi-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot make a temporary directory");
    path = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

const core::timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 2} + std::chrono::hours{9}};

// Feeds events in batches of 1000 (one transaction each, as the runtime's group commit would) and drops the outbox.
void feed(core::dispatcher& d, std::vector<core::event>& batch, core::timestamp now) {
  if (batch.empty()) return;
  d.process(std::span<const core::event>{batch});
  while (d.deliver([](const core::action&) { return true; }, now, 100000) > 0) {
  }
  batch.clear();
}

json reminders(std::size_t items) {
  scratch_dir dir;
  const std::string db = (dir.path / "kintsugi.db").string();
  core::engine_options options;
  {
    // Set-up: incidents of 100 items each; item k is due k * 30 days / items from t0, so the due dates (and their
    // reminders) spread over a month.
    storage::sqlite_store store{db};
    core::engine engine{store, options};
    core::dispatcher d{store, engine};
    std::vector<core::event> batch;
    std::size_t incident = 0;
    for (std::size_t k = 0; k < items; ++k) {
      const std::string channel = "inc-" + std::to_string(k / 100);
      if (k % 100 == 0) {
        ++incident;
        batch.push_back(core::command_invoked{"s" + std::to_string(incident), channel, "alice",
                                              "start Bench incident " + std::to_string(incident), t0});
      }
      const auto due = std::chrono::floor<std::chrono::days>(t0 + std::chrono::hours{24 * 30} * static_cast<long>(k) /
                                                                       static_cast<long>(items)) +
                       std::chrono::days{3};
      const std::string date = core::format_iso(due).substr(0, 10);
      batch.push_back(core::command_invoked{"a" + std::to_string(k), channel, "alice",
                                            "action add Fix thing " + std::to_string(k) + " @bob due:" + date, t0});
      if (batch.size() >= 1000) feed(d, batch, t0);
    }
    feed(d, batch, t0);
  }
  // Start-up: open the store (migrations checked), build the engine, find the next reminder.
  const auto start = clock_type::now();
  storage::sqlite_store store{db};
  core::engine engine{store, options};
  core::dispatcher d{store, engine};
  const auto next = store.next_reminder_due();
  const double startup_s = seconds_since(start);
  // Fire: ticks move the clock forward a day at a time until 10k reminders (a tenth of the items) went out.
  const std::size_t wanted = items / 10;
  std::size_t fired = 0;
  core::timestamp now = next ? *next : t0;
  const auto firing = clock_type::now();
  for (int day = 0; day < 60 && fired < wanted; ++day) {
    std::vector<core::event> tick{core::clock_tick{now}};
    d.process(std::span<const core::event>{tick});
    fired += d.deliver([](const core::action&) { return true; }, now, 1000000);
    now += std::chrono::hours{24};
  }
  const double fire_s = seconds_since(firing);
  return json{{"open_items", items},
              {"startup_s", startup_s},
              {"reminders_fired", fired},
              {"fire_s", fire_s},
              {"reminders_per_s", fire_s > 0 ? static_cast<double>(fired) / fire_s : 0.0},
              {"peak_rss_mib", peak_rss_mib()}};
}

json postmortem(std::size_t entries) {
  scratch_dir dir;
  const std::string db = (dir.path / "kintsugi.db").string();
  {
    storage::sqlite_store store{db};
    core::engine engine{store, {}};
    core::dispatcher d{store, engine};
    std::vector<core::event> batch;
    batch.push_back(core::command_invoked{"s1", "inc-big", "alice", "start A very long outage sev1", t0});
    for (std::size_t k = 0; k < entries; ++k) {
      const auto at = t0 + std::chrono::seconds{static_cast<long>(k) + 1};
      batch.push_back(core::message_posted{"m" + std::to_string(k), "inc-big", k % 3 == 0 ? "alice" : "bob",
                                           "step " + std::to_string(k) + ": checked the replica lag, it is still " +
                                               std::to_string(k % 97) + " s behind; <@carol> is looking at the disk",
                                           at, false, {}});
      if (batch.size() >= 1000) feed(d, batch, at);
    }
    feed(d, batch, t0);
  }
  storage::sqlite_store store{db};
  const auto start = clock_type::now();
  auto record = core::load_record(store, 1);
  const double load_s = seconds_since(start);
  const auto rendering = clock_type::now();
  const std::string doc = record ? core::render_postmortem_markdown(*record) : std::string{};
  const double render_s = seconds_since(rendering);
  return json{{"entries", record ? record->entries.size() : 0},
              {"load_s", load_s},
              {"render_s", render_s},
              {"seconds", load_s + render_s},
              {"document_bytes", doc.size()},
              {"peak_rss_mib", peak_rss_mib()}};
}

// CPU time this thread has used so far, in microseconds: in user space and in the kernel (mostly the WAL's
// pwrite and fdatasync, whose cost also depends on the disk and on what else the machine does).
struct thread_cpu {
  double user_us = 0;
  double sys_us = 0;
  static thread_cpu now() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    const auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
    return thread_cpu{us(u.ru_utime), us(u.ru_stime)};
  }
};

// `count` chat messages in batches of `batch_size`, round robin over `channels`, each from one of 20 people with
// ~100 characters of text; ids are "<channel>:<ts>" with a ts that grows, as Slack's do. `next` is the running
// message number, so that each call continues where the last one stopped.
std::vector<std::vector<core::event>> message_batches(const std::vector<std::string>& channels, std::size_t count,
                                                      std::size_t batch_size, std::size_t& next) {
  std::vector<std::vector<core::event>> out;
  for (std::size_t k = 0; k < count; ++k, ++next) {
    if (out.empty() || out.back().size() >= batch_size) {
      out.emplace_back();
      out.back().reserve(batch_size);
    }
    const std::string& channel = channels[next % channels.size()];
    char ts[32];
    std::snprintf(ts, sizeof ts, "%zu.%06zu", 1762074000 + next / 1000, (next % 1000) * 100 + 17);
    const auto at = t0 + std::chrono::milliseconds{static_cast<long>(next)};
    char user[16];
    std::snprintf(user, sizeof user, "U0BENCH%02zu", next % 20);
    std::string text = std::string{"step "}.append(std::to_string(next)).append(": the replica in ").append(channel);
    text += " is still behind; restarting the follower and watching the lag graph";
    text.resize(100, '.');
    out.back().push_back(core::message_posted{channel + ":" + ts, channel, user, std::move(text), at, false, {}});
  }
  return out;
}

json store_path(std::size_t events) {
  scratch_dir dir;
  const std::string db = (dir.path / "kintsugi.db").string();
  storage::sqlite_store store{db};
  core::engine engine{store, {}};
  core::dispatcher d{store, engine};
  std::vector<std::string> channels;
  {
    // Set-up: an open incident in each of 10 channels.
    std::vector<core::event> batch;
    for (int c = 0; c < 10; ++c) {
      const std::string n = std::to_string(c);
      channels.push_back(std::string{"C0BENCH0"}.append(n));
      batch.push_back(core::command_invoked{std::string{"s"}.append(n), channels.back(), "U0BENCH00",
                                            std::string{"start Replica lag "}.append(n).append(" sev2"), t0});
    }
    feed(d, batch, t0);
  }
  const auto entries_now = [&store] {
    std::size_t n = 0;
    for (core::id_t id = 1; id <= 10; ++id) n += store.timeline(id).size();
    return n;
  };
  const std::size_t before = entries_now();
  std::size_t next = 0;
  json out = json::object();
  // A warm-up of a few thousand messages first, so that the first measured batches find the tables past their
  // first pages.
  for (const std::size_t batch_size : {std::size_t{0}, std::size_t{20}, std::size_t{200}}) {
    const bool warm_up = batch_size == 0;
    auto batches = message_batches(channels, warm_up ? events / 10 : events, warm_up ? 100 : batch_size, next);
    std::size_t failed = 0;
    std::size_t stored = 0;
    const thread_cpu cpu_start = thread_cpu::now();
    const auto wall_start = clock_type::now();
    for (const auto& batch : batches) {
      for (const auto& o : d.process(std::span<const core::event>{batch})) {
        if (!o.error.empty()) ++failed;
        ++stored;
      }
    }
    const double wall_s = seconds_since(wall_start);
    const thread_cpu cpu_end = thread_cpu::now();
    const double user_us = cpu_end.user_us - cpu_start.user_us;
    const double sys_us = cpu_end.sys_us - cpu_start.sys_us;
    if (failed != 0) throw std::runtime_error("store: " + std::to_string(failed) + " events failed");
    if (warm_up) continue;
    const std::string suffix = "_batch" + std::to_string(batch_size);
    out["events" + suffix] = stored;
    out["commits" + suffix] = batches.size();
    out["cpu_us_per_event" + suffix] = (user_us + sys_us) / static_cast<double>(stored);
    out["user_us_per_event" + suffix] = user_us / static_cast<double>(stored);
    out["sys_us_per_event" + suffix] = sys_us / static_cast<double>(stored);
    out["events_per_s" + suffix] = wall_s > 0 ? static_cast<double>(stored) / wall_s : 0.0;
  }
  // Every message must be on its incident's timeline, once.
  if (const std::size_t entries = entries_now(); entries != before + next) {
    throw std::runtime_error("store: " + std::to_string(entries) + " timeline entries, expected " +
                             std::to_string(before + next));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") quick = true;
    else if (arg == "reminders" || arg == "postmortem" || arg == "store") wanted.push_back(arg);
    else {
      std::cerr << "kintsugi_bench_core: unknown argument '" << arg << "'\n"
                << "usage: kintsugi_bench_core [--quick] [reminders|postmortem|store]...\n";
      return 2;
    }
  }
  if (wanted.empty()) wanted = {"reminders", "postmortem", "store"};
  const std::size_t scale = quick ? 10 : 1;
  json out{{"quick", quick}, {"scenarios", json::object()}};
  try {
    for (const auto& name : wanted) {
      if (name == "reminders") out["scenarios"]["reminders"]["kintsugi"] = reminders(100000 / scale);
      if (name == "postmortem") out["scenarios"]["postmortem"]["kintsugi"] = postmortem(50000 / scale);
      if (name == "store") out["scenarios"]["store"]["kintsugi"] = store_path(40000 / scale);
    }
  } catch (const std::exception& e) {
    std::cerr << "kintsugi_bench_core: " << e.what() << "\n";
    return 1;
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
