#include "core/dispatcher.hpp"

#include <exception>
#include <variant>

namespace kintsugi::core {

std::vector<event_outcome> dispatcher::process(std::span<const event> batch) {
  std::vector<event_outcome> outcomes(batch.size());
  if (batch.empty()) return outcomes;
  transaction tx{store_};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const event& e = batch[i];
    if (const auto* m = std::get_if<message_posted>(&e)) {
      // No savepoint for a chat message: it writes one row at most, in one statement, and a failed statement
      // leaves nothing behind. (An open savepoint makes SQLite copy aside every page the event touches, which
      // cost as much as the insert itself.) Should the failure have ended the whole transaction, the batch
      // cannot go on, as when ROLLBACK TO fails below.
      try {
        outcomes[i].duplicate = !take_message(*m, e);
      } catch (const std::exception& ex) {
        if (!store_.transaction_open()) throw;
        outcomes[i].error = ex.what();
      }
      continue;
    }
    store_.savepoint();
    try {
      auto key = idempotency_key(e);
      if (!key.empty() && !store_.remember_event(key, time_of(e))) {
        outcomes[i].duplicate = true;
        store_.release_savepoint();
        continue;
      }
      for (const auto& a : engine_.handle(e)) store_.enqueue(a, time_of(e));
      store_.release_savepoint();
    } catch (const std::exception& ex) {
      store_.rollback_to_savepoint();
      outcomes[i].error = ex.what();
    }
  }
  tx.commit();
  return outcomes;
}

// Chat messages are most of the traffic, and a captured one needs no inbox row: its timeline entry, unique by the
// message id, already makes a redelivery a no-op (and writing one row instead of two is what a group commit
// mostly pays for). A message that is not captured still goes to the inbox, so that a redelivery stays a no-op
// even once its channel has an incident; hence the inbox is read first, also for the rows of older versions.
bool dispatcher::take_message(const message_posted& m, const event& e) {
  const auto key = idempotency_key(e);
  if (store_.seen_event(key)) return false;
  switch (engine_.capture(m)) {
    case capture_outcome::added:
      return true;
    case capture_outcome::already_there:
      return false;
    case capture_outcome::ignored:
      break;
  }
  return store_.remember_event(key, m.at);
}

std::size_t dispatcher::deliver(const deliver_fn& send, timestamp now, std::size_t limit) {
  auto items = store_.pending(limit);
  if (items.empty()) return 0;
  std::size_t sent = 0;
  transaction tx{store_};
  for (const auto& item : items) {
    bool delivered = false;
    try {
      delivered = send(item.what);
    } catch (const std::exception&) {
      delivered = false;  // a throwing sender counts as a failed attempt; the items sent before it stay sent
    }
    if (delivered) {
      store_.mark_sent(item.id, now);
      ++sent;
    } else {
      store_.mark_failed_attempt(item.id);
    }
  }
  tx.commit();
  return sent;
}

}  // namespace kintsugi::core
