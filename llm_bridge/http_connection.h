// One kept-alive HTTP/1.1 connection (plain TCP or TLS) to one endpoint, on Boost.Beast, with a
// deadline on every exchange. Not thread-safe: LlmClient gives each worker its own.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "llm_bridge/llm_config.h"

namespace recarena::llm_bridge {

// Why an exchange produced no HTTP response. Every kind is worth a retry.
enum class TransportFailure {
  kConnect,   // resolve / connect / TLS handshake failed
  kTimeout,   // the deadline passed
  kReset,     // the peer closed or reset the connection mid-exchange
  kProtocol,  // not a parseable HTTP response (or a body over the size limit)
};
const char* TransportFailureName(TransportFailure f);  // "connect", "timeout", "reset", "protocol"

class TransportError : public Error {
 public:
  TransportError(TransportFailure failure, const std::string& message)
      : Error(message), failure_(failure) {}
  TransportFailure failure() const { return failure_; }

 private:
  TransportFailure failure_;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header's value, '' when absent
};

class HttpConnection {
 public:
  // ca_file: a PEM bundle to verify TLS peers with instead of the system's ('' = system).
  HttpConnection(Endpoint endpoint, std::string ca_file);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `method target` (target = endpoint path + suffix, e.g. "/v1/chat/completions") with
  // the headers and body (POST: JSON) and reads the response, all within timeout seconds.
  // Connects first when not connected; keeps the connection for the next call when the server
  // allows it. Throws TransportError (the connection is then closed). Bodies over 64 MiB are a
  // protocol failure.
  HttpResponse Exchange(const std::string& method, const std::string& target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body, double timeout);
  // True when the last exchange left the connection open (the next one reuses it).
  bool connected() const;
  // Connections opened so far (1 + reconnects): how well keep-alive works.
  int64_t connects() const;
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recarena::llm_bridge
