#pragma once
// Runs one HTTP exchange to its end even when the caller is cancelled meanwhile (the bot is stopping): the platform
// may already have acted on the request, and an answer thrown away would make the outbox send it again after a
// restart. The client's request_timeout bounds the wait. The caller stays cancelled: its next operation throws, as
// usual. A caller cancelled before the exchange starts gets operation_aborted and nothing is sent.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/error.hpp"
#include "net/http_message.hpp"

namespace kintsugi::net {

boost::asio::awaitable<result<http_response>> finish_even_if_cancelled(boost::asio::any_io_executor ex,
                                                                       boost::asio::awaitable<result<http_response>> exchange);

}  // namespace kintsugi::net
