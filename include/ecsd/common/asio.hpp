// The one place that includes Boost.Asio and Boost.Beast.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>;
// GCC 12 no longer pulls it in transitively, so it has to come first.
#pragma once
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace ecsd {
namespace asio = boost::asio;
namespace beast = boost::beast;
}  // namespace ecsd
