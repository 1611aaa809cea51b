#include "core/capture_gaps.hpp"

#include <algorithm>

#include "core/events.hpp"

namespace kintsugi::core {

void open_capture_gaps(store& s, std::string_view route) {
  transaction tx{s};
  for (const auto& inc : s.open_incidents()) {
    if (route_of(inc.channel) != route) continue;
    timestamp since = inc.declared_at;
    if (auto latest = s.latest_message(inc.id)) since = std::max(since, latest->at);
    s.open_gap(inc.channel, since);
  }
  tx.commit();
}

std::vector<gap_to_fill> capture_gaps(store& s, std::string_view route) {
  std::vector<gap_to_fill> out;
  for (const auto& inc : s.open_incidents()) {
    if (route_of(inc.channel) != route) continue;
    auto gap = s.find_gap(inc.channel);
    if (!gap) continue;
    // A gap left open by an earlier incident in the same channel: this one's capture began at its declaration.
    const timestamp since = std::max(gap->since, inc.declared_at);
    out.push_back(gap_to_fill{capture_gap{gap->channel, since, gap->openings}, inc.declared_at, inc.id});
  }
  return out;
}

}  // namespace kintsugi::core
