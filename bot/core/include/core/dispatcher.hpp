#pragma once
// The durability rule around the engine (DESIGN.md): an event is remembered in the inbox, handled, and what
// it makes the bot say is queued in the outbox — all in one transaction. (A captured chat message is remembered
// by its timeline entry instead, which is unique by message id.) Events that arrive together commit
// together (one fsync per batch); each has its own savepoint, so one bad event never undoes the others (a chat
// message needs none: it writes one row in one statement, which fails as a whole).
// Only after the commit is the outbox delivered, and each item is marked sent once delivered.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/store.hpp"

namespace kintsugi::core {

struct event_outcome {
  bool duplicate = false;  // seen before: nothing changed
  std::string error;       // non-empty: the event was rolled back (the store said why)
};

// Delivers one action to the platform; returns false when it could not (it stays in the outbox).
using deliver_fn = std::function<bool(const action&)>;

class dispatcher {
 public:
  dispatcher(store& s, engine& e) : store_(s), engine_(e) {}

  // Handles a batch in one transaction and returns one outcome per event.
  std::vector<event_outcome> process(std::span<const event> batch);
  // Sends what is waiting in the outbox, oldest first; returns how many were delivered.
  std::size_t deliver(const deliver_fn& send, timestamp now, std::size_t limit = 1000);

 private:
  // Stores one chat message (`e` holds it); false when it was there already.
  bool take_message(const message_posted& m, const event& e);

  store& store_;
  engine& engine_;
};

}  // namespace kintsugi::core
