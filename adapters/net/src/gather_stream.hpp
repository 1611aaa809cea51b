#pragma once
// A stream layer under Beast's websocket that can gather several writes into one. Beast writes every websocket
// message with its own write on the next layer: over TLS that is one record and one sendmsg per message, which made
// writing Slack's acks a third of the io thread's work under load. While gathering, writes are copied into a buffer
// and complete at once; the write made after send_with_next() sends everything gathered and itself in one go.
//
// The real I/O thus always happens inside one of Beast's own write operations, which Beast never runs two of at a
// time and which its teardown waits for: a pong, a ping or a close that Beast writes while messages are being
// gathered is gathered too, in order, and nothing ever writes to the next layer beside it.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

#include <string>
#include <utility>

namespace kintsugi::net::detail {

template <class Next>
class gather_stream {
 public:
  using executor_type = typename Next::executor_type;
  using next_layer_type = Next;

  template <class... Args>
  explicit gather_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  // From now on, writes are gathered.
  void gather() { mode_ = mode::gathering; }
  // The next write sends what was gathered, then itself, and completes when all of it is written.
  void send_with_next() { mode_ = mode::sending; }
  // Writes go straight through again. Anything still gathered (only after a failed write) is dropped: the
  // connection is failing.
  void end_gather() {
    mode_ = mode::direct;
    pending_.clear();
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (mode_ == mode::direct) {
            next_.async_write_some(b, std::move(handler));
            return;
          }
          const auto n = boost::asio::buffer_size(b);
          const auto at = pending_.size();
          pending_.resize(at + n);
          boost::asio::buffer_copy(boost::asio::buffer(pending_.data() + at, n), b);
          auto ex = boost::asio::get_associated_executor(handler, next_.get_executor());
          if (mode_ == mode::gathering) {
            // Completes as a write would: later, never inside this call.
            boost::asio::post(ex, boost::asio::append(std::move(handler), boost::system::error_code{}, n));
            return;
          }
          boost::asio::async_write(
              next_, boost::asio::buffer(pending_),
              boost::asio::bind_executor(ex, [this, n, h = std::move(handler)](boost::system::error_code ec,
                                                                               std::size_t) mutable {
                pending_.clear();
                std::move(h)(ec, ec ? std::size_t{0} : n);
              }));
        },
        token, buffers);
  }

 private:
  enum class mode { direct, gathering, sending };
  Next next_;
  mode mode_ = mode::direct;
  std::string pending_;  // gathered, not yet handed to the next layer
};

// Beast closes a websocket through teardown() on its next layer: forwarded to the layer below.
template <class Next>
void teardown(boost::beast::role_type role, gather_stream<Next>& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, gather_stream<Next>& stream, Handler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

}  // namespace kintsugi::net::detail
