#include "llm_bridge/http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

namespace recarena::llm_bridge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const char* TransportFailureName(TransportFailure f) {
  switch (f) {
    case TransportFailure::kConnect:
      return "connect";
    case TransportFailure::kTimeout:
      return "timeout";
    case TransportFailure::kReset:
      return "reset";
    case TransportFailure::kProtocol:
      return "protocol";
  }
  return "?";
}

namespace {
constexpr uint64_t kBodyLimit = 64ull << 20;

bool IsReset(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

// Runs the io_context until the pending operation completes (its handler sets *done) or until
// `deadline`; returns false on the deadline (the caller cancels and drains).
bool RunUntil(asio::io_context& ioc, const bool* done, Clock::time_point deadline) {
  ioc.restart();
  while (!*done) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    if (ioc.run_one_for(deadline - now) == 0 && !*done && Clock::now() >= deadline) return false;
  }
  return true;
}
}  // namespace

struct HttpConnection::Impl {
  Endpoint ep;
  std::string ca_file;
  asio::io_context ioc;
  std::optional<ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool open = false;
  int64_t connects = 0;

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  [[noreturn]] void Fail(TransportFailure f, const std::string& what, const beast::error_code& ec) {
    Close();
    throw TransportError(f, std::string(TransportFailureName(f)) + " failure " + what + " " +
                                ep.host + ":" + ep.port + ": " + ec.message());
  }

  void Close() {
    beast::error_code ignored;
    if (tls) {
      beast::get_lowest_layer(*tls).socket().close(ignored);
      tls.reset();
    }
    if (plain) {
      plain->socket().close(ignored);
      plain.reset();
    }
    buffer.consume(buffer.size());
    open = false;
  }

  void Connect(Clock::time_point deadline) {
    Close();
    ++connects;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type results;
    beast::error_code ec;
    bool done = false;
    resolver.async_resolve(ep.host, ep.port,
                           [&](const beast::error_code& e, tcp::resolver::results_type r) {
                             ec = e;
                             results = std::move(r);
                             done = true;
                           });
    if (!RunUntil(ioc, &done, deadline)) {
      resolver.cancel();
      ioc.restart();
      ioc.run();
      Fail(TransportFailure::kTimeout, "resolving", asio::error::timed_out);
    }
    if (ec) Fail(TransportFailure::kConnect, "resolving", ec);
    if (ep.tls) {
      tls.emplace(ioc, *tls_ctx);
      if (!SSL_set_tlsext_host_name(tls->native_handle(), ep.host.c_str()))
        Fail(TransportFailure::kConnect, "setting SNI for", asio::error::invalid_argument);
      tls->set_verify_callback(ssl::host_name_verification(ep.host));
    } else {
      plain.emplace(ioc);
    }
    Lowest().expires_at(deadline);
    done = false;
    Lowest().async_connect(results, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    ioc.restart();
    ioc.run();
    if (ec == beast::error::timeout) Fail(TransportFailure::kTimeout, "connecting to", ec);
    if (ec) Fail(TransportFailure::kConnect, "connecting to", ec);
    if (tls) {
      tls->async_handshake(ssl::stream_base::client, [&](const beast::error_code& e) { ec = e; });
      ioc.restart();
      ioc.run();
      if (ec == beast::error::timeout) Fail(TransportFailure::kTimeout, "TLS handshake with", ec);
      if (ec) Fail(TransportFailure::kConnect, "TLS handshake with", ec);
    }
    open = true;
  }

  template <class Stream>
  HttpResponse Send(Stream& stream, http::request<http::string_body>& req,
                    Clock::time_point deadline) {
    beast::error_code ec;
    Lowest().expires_at(deadline);
    http::async_write(stream, req, [&](const beast::error_code& e, size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec == beast::error::timeout) Fail(TransportFailure::kTimeout, "sending to", ec);
    if (ec)
      Fail(IsReset(ec) ? TransportFailure::kReset : TransportFailure::kProtocol, "sending to", ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    Lowest().expires_at(deadline);
    http::async_read(stream, buffer, parser, [&](const beast::error_code& e, size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec == beast::error::timeout) Fail(TransportFailure::kTimeout, "reading from", ec);
    if (ec)
      Fail(IsReset(ec) ? TransportFailure::kReset : TransportFailure::kProtocol, "reading from",
           ec);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    const auto it = res.find(http::field::retry_after);
    if (it != res.end()) out.retry_after = std::string(it->value());
    if (!res.keep_alive()) Close();
    return out;
  }
};

HttpConnection::HttpConnection(Endpoint endpoint, std::string ca_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->ep = std::move(endpoint);
  impl_->ca_file = std::move(ca_file);
  if (!impl_->ep.tls) return;
  try {
    impl_->tls_ctx.emplace(ssl::context::tls_client);
    impl_->tls_ctx->set_verify_mode(ssl::verify_peer);
    if (impl_->ca_file.empty()) {
      impl_->tls_ctx->set_default_verify_paths();
    } else {
      impl_->tls_ctx->load_verify_file(impl_->ca_file);
    }
  } catch (const boost::system::system_error& e) {
    throw FileError(impl_->ca_file.empty() ? "(system CA store)" : impl_->ca_file, 0,
                    std::string("llm.ca_file: cannot load the TLS trust store: ") + e.what());
  }
}

HttpConnection::~HttpConnection() { impl_->Close(); }

HttpResponse HttpConnection::Exchange(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
    double timeout) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout));
  http::request<http::string_body> req{method == "GET" ? http::verb::get : http::verb::post, target,
                                       11};
  req.set(http::field::host, impl_->ep.host);
  req.set(http::field::user_agent, "recarena");
  req.keep_alive(true);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (method != "GET") {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  try {
    if (!impl_->open) impl_->Connect(deadline);
    return impl_->tls ? impl_->Send(*impl_->tls, req, deadline)
                      : impl_->Send(*impl_->plain, req, deadline);
  } catch (const boost::system::system_error& e) {
    impl_->Close();
    throw TransportError(TransportFailure::kProtocol, e.what());
  }
}

bool HttpConnection::connected() const { return impl_->open; }
int64_t HttpConnection::connects() const { return impl_->connects; }
void HttpConnection::Close() { impl_->Close(); }

}  // namespace recarena::llm_bridge
