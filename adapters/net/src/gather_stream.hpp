#pragma once
// A stream layer under Beast's websocket that can gather several writes into one. Beast writes every websocket
// message with its own write on the next layer: over TLS that is one record and one sendmsg per message, which made
// writing Slack's acks a third of the io thread's work under load. While gathering, writes are copied into a buffer
// and complete at once; flush() then sends them all with one write.
//
// Beast never runs two writes of its own at a time, and the connection's writer only gathers between Beast's
// writes, so the one rule to keep is: while a flush is sending, whatever Beast writes meanwhile (a pong, a close)
// is gathered too and sent by the same flush, never written beside it.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
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

  // From now until flush(), writes are gathered.
  void gather() {
    if (mode_ == mode::direct) mode_ = mode::gathering;
  }
  bool gathering() const { return mode_ != mode::direct; }
  std::size_t gathered() const { return pending_.size(); }

  // Sends what was gathered (and whatever is gathered while it sends), then writes go straight through again.
  boost::asio::awaitable<boost::system::error_code> flush() {
    mode_ = mode::flushing;
    boost::system::error_code ec;
    while (!pending_.empty() && !ec) {
      sending_.swap(pending_);
      auto [error, n] = co_await boost::asio::async_write(next_, boost::asio::buffer(sending_),
                                                          boost::asio::as_tuple(boost::asio::use_awaitable));
      ec = error;
      sending_.clear();
    }
    pending_.clear();
    mode_ = mode::direct;
    co_return ec;
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
          // Completes as a write would: later, never inside this call.
          auto ex = boost::asio::get_associated_executor(handler, next_.get_executor());
          boost::asio::post(ex, boost::asio::append(std::move(handler), boost::system::error_code{}, n));
        },
        token, buffers);
  }

 private:
  enum class mode { direct, gathering, flushing };
  Next next_;
  mode mode_ = mode::direct;
  std::string pending_;  // gathered, not yet handed to the next layer
  std::string sending_;  // being written by flush()
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
