#include "experiments/train/oracle_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/json_read.h"
#include "core/log.h"
#include "experiments/train/ialp_distill.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct OracleServer::Net {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  int port = 0;
  std::atomic<bool> stop{false};
  std::thread accept_thread;
  std::mutex threads_mu;
  std::vector<std::shared_ptr<tcp::socket>> sockets;  // shut down by Stop to end their reads
  std::vector<std::thread> connections;
};

namespace {
const char* const kUnreadable = "I cannot tell.";

// The text between `after` and the next `until` in s, from pos; npos-safe.
bool Between(const std::string& s, const std::string& after, const std::string& until,
             std::string* out) {
  const size_t a = s.find(after);
  if (a == std::string::npos) return false;
  const size_t b = s.find(until, a + after.size());
  *out =
      s.substr(a + after.size(), b == std::string::npos ? std::string::npos : b - a - after.size());
  return true;
}

// A completion body in the OpenAI format for `api` ("chat" or "completions").
std::string Completion(const std::string& api, const std::string& text) {
  json choice{{"index", 0}, {"finish_reason", "stop"}};
  if (api == "chat")
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  else
    choice["text"] = text;
  return json{{"id", "oracle"},
              {"object", api == "chat" ? "chat.completion" : "text_completion"},
              {"model", "oracle"},
              {"choices", json::array({choice})},
              {"usage", {{"prompt_tokens", 0}, {"completion_tokens", 1}, {"total_tokens", 1}}}}
      .dump();
}
}  // namespace

OracleServer::OracleServer(std::shared_ptr<const env::Simulator> truth,
                           const data::Dataset& dataset, const llm_bridge::PromptOptions& prompt,
                           double min_reward)
    : chooser_(std::move(truth), min_reward),
      prompts_(prompt, dataset.items),
      net_(std::make_unique<Net>()) {
  if (prompt.template_text.find("User: {user}") == std::string::npos)
    throw ConfigError("prompt.template",
                      "the oracle server needs a template with a line 'User: {user}' (it reads "
                      "the user back from the prompt)");
  for (int64_t i = 0; i < dataset.items.size(); ++i) item_by_text_.emplace(prompts_.ItemText(i), i);
  for (size_t u = 0; u < dataset.users.external_ids.size(); ++u)
    user_by_id_.emplace(dataset.users.external_ids[u], static_cast<int64_t>(u));
}

OracleServer::~OracleServer() { Stop(); }

std::string OracleServer::Answer(const std::string& prompt) {
  agents::ChoiceQuery q;
  std::string user, history;
  if (!Between(prompt, "User: ", "\n", &user) || !user_by_id_.count(user)) return kUnreadable;
  q.user = user_by_id_.at(user);
  if (!Between(prompt, "History: ", ".\n", &history)) return kUnreadable;
  if (history != "(none yet)") {
    size_t pos = 0;
    while (pos <= history.size()) {
      const size_t end = history.find("; ", pos);
      const std::string text = history.substr(pos, end == std::string::npos ? end : end - pos);
      const auto it = item_by_text_.find(text);
      if (it == item_by_text_.end()) return kUnreadable;
      q.history.push_back(it->second);
      if (end == std::string::npos) break;
      pos = end + 2;
    }
  }
  std::istringstream lines(prompt);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 4 || line[1] != '.' || line[2] != ' ' || line[0] < 'a' || line[0] > 'y')
      continue;
    if (line[0] != static_cast<char>('a' + q.candidates.size())) continue;
    const auto it = item_by_text_.find(line.substr(3));
    if (it == item_by_text_.end()) continue;  // the None line
    q.candidates.push_back(it->second);
  }
  if (q.candidates.empty()) return kUnreadable;
  std::lock_guard<std::mutex> lock(mu_);
  const agents::ChoiceResult r = chooser_.Choose({q})[0];
  return r.position >= 0 ? std::string(1, static_cast<char>('a' + r.position)) : "None";
}

int OracleServer::Start(int port) {
  Net& n = *net_;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port));
  n.acceptor.open(ep.protocol());
  n.acceptor.set_option(asio::socket_base::reuse_address(true));
  n.acceptor.bind(ep);
  n.acceptor.listen();
  n.port = n.acceptor.local_endpoint().port();
  n.accept_thread = std::thread([this] {
    Net& net = *net_;
    while (!net.stop) {
      beast::error_code ec;
      auto sock = std::make_shared<tcp::socket>(net.io);
      net.acceptor.accept(*sock, ec);
      if (ec || net.stop) continue;
      std::lock_guard<std::mutex> lock(net.threads_mu);
      net.sockets.push_back(sock);
      net.connections.emplace_back([this, sock] {
        tcp::socket& s = *sock;
        beast::flat_buffer buf;
        beast::error_code e;
        while (!net_->stop) {
          http::request<http::string_body> req;
          http::read(s, buf, req, e);
          if (e) break;
          ++requests_;
          http::response<http::string_body> res{http::status::ok, req.version()};
          res.set(http::field::content_type, "application/json");
          res.keep_alive(req.keep_alive());
          const std::string target(req.target());
          if (req.method() == http::verb::get && target.size() >= 7 &&
              target.compare(target.size() - 7, 7, "/models") == 0) {
            res.body() = json{{"object", "list"},
                              {"data", json::array({{{"id", "oracle"}, {"object", "model"}}})}}
                             .dump();
          } else if (req.method() == http::verb::post) {
            const json body = ParseJsonOrDiscarded(req.body());
            const bool chat = target.find("/chat/completions") != std::string::npos;
            std::string prompt;
            if (!body.is_discarded()) {
              if (chat && body.contains("messages") && !body["messages"].empty())
                prompt = body["messages"].back().value("content", "");
              else if (!chat)
                prompt = body.value("prompt", "");
            }
            res.body() = Completion(chat ? "chat" : "completions", Answer(prompt));
          } else {
            res.result(http::status::not_found);
            res.body() = R"({"error": {"message": "not found"}})";
          }
          res.prepare_payload();
          http::write(s, res, e);
          if (e || !req.keep_alive()) break;
        }
        s.shutdown(tcp::socket::shutdown_both, e);
      });
    }
  });
  return n.port;
}

void OracleServer::Wait() {
  if (net_->accept_thread.joinable()) net_->accept_thread.join();
}

void OracleServer::Stop() {
  Net& n = *net_;
  if (n.stop.exchange(true)) return;
  if (n.accept_thread.joinable()) {
    // Wake the blocking accept with a connection of our own.
    beast::error_code ec;
    tcp::socket wake(n.io);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(n.port)),
                 ec);
    n.accept_thread.join();
  }
  beast::error_code ec;
  n.acceptor.close(ec);
  std::lock_guard<std::mutex> lock(n.threads_mu);
  for (auto& s : n.sockets) s->shutdown(tcp::socket::shutdown_both, ec);  // ends blocked reads
  for (auto& t : n.connections)
    if (t.joinable()) t.join();
}

std::unique_ptr<OracleServer> MakeOracleServer(const DistillConfig& cfg) {
  const data::PreparedDataset data = SimulatorDataset(cfg.distill.sim);
  return std::make_unique<OracleServer>(
      env::LoadSimulator(cfg.distill.sim, env::ParseRole(cfg.distill.oracle_role)), data.dataset,
      llm_bridge::WithDatasetDefaults(cfg.prompt, data.dataset.name), cfg.distill.oracle_min);
}

}  // namespace recarena::experiments
