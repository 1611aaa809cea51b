#pragma once
// Where a platform's backfill picks up after the bot could not hear (its connection was down, or the bot was).
// The start of each channel's gap is written down when the connection comes back, before anything heard live on
// it is stored, and stays until a backfill has filled the gap: a backfill cut short, or a crash in the middle of
// one, leaves it for the next. (Reading "the newest message captured" at backfill time instead would skip what
// was said before the first message heard live once that message is stored.)
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/store.hpp"

namespace kintsugi::core {

// For every open incident run on the platform of `route` (see route_of): opens its channel's gap at the newest chat
// message captured there, else at the declaration. One transaction.
void open_capture_gaps(store& s, std::string_view route);

struct gap_to_fill {
  capture_gap gap;  // backfill after gap.since (never before the declaration); then store::close_gap(gap)
  timestamp declared{};
  id_t incident = 0;
};

// The open incidents on the platform of `route` whose channel has a gap, in incident order.
std::vector<gap_to_fill> capture_gaps(store& s, std::string_view route);

}  // namespace kintsugi::core
