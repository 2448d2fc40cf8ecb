#include "experiments/cli/llm_commands.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/json_read.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "experiments/cli/command_util.h"
#include "experiments/report/llm_check.h"
#include "experiments/train/ialp_distill.h"
#include "experiments/train/oracle_server.h"
#include "llm_bridge/response_cache.h"

namespace recarena::experiments {

namespace po = boost::program_options;
using nlohmann::json;

namespace {
const char* const kDefaultCache = "runs/llm-cache.sqlite";

void NoPositional(const ParsedCommandLine& cl) {
  if (!cl.positional.empty()) throw Error("unexpected argument " + QuoteForError(cl.positional[0]));
}

// The cache file of a `llm cache` command: its one positional argument, or the default.
std::string CacheArgument(const ParsedCommandLine& cl) {
  if (cl.positional.size() > 1)
    throw Error("unexpected argument " + QuoteForError(cl.positional[1]));
  if (!cl.overrides.empty()) throw Error("unexpected argument " + QuoteForError(cl.overrides[0]));
  return cl.positional.empty() ? kDefaultCache : cl.positional[0];
}
}  // namespace

int RunLlmCheckCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string config_file;
  LlmCheckOptions o;
  bool as_json = false;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file), "YAML with llm: and prompt: sections")(
      "sim", po::value(&o.sim), "build the prompts from this fitted simulator's dataset")(
      "prompts", po::value(&o.prompts), "how many prompts (default 4)")(
      "k", po::value(&o.k), "candidates per prompt (default 10)")(
      "json", po::bool_switch(&as_json), "print the JSON summary instead of lines");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm check --config FILE [--sim DIR] [--prompts N] [llm.key=value ...]",
                     "Asks the configured OpenAI-compatible LLM for its models and answers a few\n"
                     "preference prompts (thesis Table 7.1): prints each answer and its parse,\n"
                     "the parse rate, latency and tokens per second.",
                     opts);
    return 0;
  }
  NoPositional(cl);
  if (config_file.empty()) throw Error("--config FILE is required (see configs/llm/local.yaml)");
  const auto cfg = config::Load<LlmCheckConfig>(config_file, cl.overrides);
  std::ostringstream lines;
  const json r = RunLlmCheck(cfg, o, lines);
  if (as_json) {
    out << r.dump(2) << "\n";
    return 0;
  }
  const json& ch = r["chooser"];
  const json& m = r["llm"];
  out << lines.str()
      << fmt::format(
             "parse rate {:.2f} (picks {:.2f}, none {:.2f}); latency mean {:.3f} s, p95 "
             "{:.3f} s; {:.1f} generated tokens/s per request; {} cache hits\n",
             ch["parse_rate"].get<double>(), ch["pick_rate"].get<double>(),
             ch["none_rate"].get<double>(), m["latency_mean_s"].get<double>(),
             m["latency_p95_s"].get<double>(), m["completion_tokens_per_request_s"].get<double>(),
             m["cache_hits"].get<int64_t>());
  return 0;
}

int RunLlmDistillCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string out_dir, config_file;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file), "YAML config (see configs/llm/)")(
      "out", po::value(&out_dir),
      "run directory; an existing one is resumed (default: run.dir/<name>-<timestamp>)");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm distill --config FILE [--out DIR] [section.key=value ...]",
                     "iALP (thesis Alg. 5): pre-trains an actor-critic on preferences an LLM\n"
                     "distils: the actor proposes k candidates, the LLM picks one (r^p = 1) or\n"
                     "none (a random candidate, r^p = 0), the transitions form D_LLM. Writes\n"
                     "agent.pt (for agent.ialp.init_from), d_llm.jsonl / d_llm.csv, distill.json.\n"
                     "A killed run resumes when started again with the same --out.",
                     opts);
    return 0;
  }
  NoPositional(cl);
  if (config_file.empty()) throw Error("--config FILE is required (see configs/llm/)");
  const auto cfg = config::Load<DistillConfig>(config_file, cl.overrides);
  cfg.Validate();
  std::filesystem::path created;
  const auto dir = SetupRunDir(cfg.run, out_dir, &created);
  const FailedStartCleanup cleanup(dir, created);
  CheckRunDirConfig(dir, config::ToYamlString(cfg));
  log::Info("run directory {}", dir.string());
  const DistillResult r = RunDistill(cfg, dir);
  json j = r.summary;
  j["dir"] = dir.string();
  j["resumed"] = r.resumed;
  out << j.dump(2) << "\n";
  return 0;
}

int RunLlmOracleServerCommand(const std::vector<std::string>& args, std::ostream& out) {
  std::string config_file, port_file;
  int port = 8766;
  po::options_description opts("options");
  opts.add_options()("config", po::value(&config_file),
                     "a distill config: distill.sim, oracle_role, oracle_min and prompt:")(
      "port", po::value(&port), "port on 127.0.0.1 (0 = any free port; default 8766)")(
      "port-file", po::value(&port_file), "write the bound port here once it listens");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm oracle-server --config FILE [--port P] [--port-file F]",
                     "Serves the oracle teacher over the OpenAI-compatible API (model id\n"
                     "'oracle'): each preference prompt is read back and answered with the label\n"
                     "of the candidate the simulator role distill.oracle_role truly prefers. The\n"
                     "template must show 'User: {user}'. Runs until killed (docs/llm.md).",
                     opts);
    return 0;
  }
  NoPositional(cl);
  if (config_file.empty()) throw Error("--config FILE is required (see configs/llm/)");
  const auto cfg = config::Load<DistillConfig>(config_file, cl.overrides);
  cfg.Validate();
  const auto server = MakeOracleServer(cfg);
  const int bound = server->Start(port);
  if (!port_file.empty()) WriteFileAtomic(port_file, std::to_string(bound) + "\n");
  out << "oracle server on http://127.0.0.1:" << bound << "/v1 (model oracle)" << std::endl;
  server->Wait();
  return 0;
}

int RunLlmCacheStats(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm cache stats [FILE]",
                     "Entries, hits, size and models of an LLM response cache (default " +
                         std::string(kDefaultCache) + ").",
                     opts);
    return 0;
  }
  llm_bridge::ResponseCache cache(CacheArgument(cl), /*read_only=*/true);
  const auto st = cache.Stats();
  json j{{"file", cache.path().string()},
         {"entries", st.entries},
         {"hits", st.hits},
         {"bytes", st.bytes},
         {"oldest", st.oldest},
         {"newest", st.newest}};
  for (const auto& [model, n] : st.per_model) j["models"][model] = n;
  out << j.dump(2) << "\n";
  return 0;
}

int RunLlmCacheExport(const std::vector<std::string>& args, std::ostream& out) {
  std::string to;
  po::options_description opts("options");
  opts.add_options()("out", po::value(&to), "write the JSONL here instead of stdout");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm cache export [FILE] [--out JSONL]",
                     "Every cached request and answer as JSON lines (key, model, endpoint, value,\n"
                     "created, hits), oldest first.",
                     opts);
    return 0;
  }
  llm_bridge::ResponseCache cache(CacheArgument(cl), /*read_only=*/true);
  std::ofstream file;
  if (!to.empty()) {
    file.open(to);
    if (!file) throw FileError(to, 0, "cannot write");
  }
  std::ostream& os = to.empty() ? out : file;
  int64_t n = 0;
  cache.ForEach([&](const llm_bridge::CacheEntry& e) {
    os << json{{"key", ParseJsonOrDiscarded(e.key)},
               {"model", e.model},
               {"endpoint", e.endpoint},
               {"value", ParseJsonOrDiscarded(e.value)},
               {"created", e.created},
               {"hits", e.hits}}
              .dump()
       << "\n";
    ++n;
  });
  if (!to.empty()) out << json{{"exported", n}, {"out", to}}.dump() << "\n";
  return 0;
}

int RunLlmCachePrune(const std::vector<std::string>& args, std::ostream& out) {
  std::string before, model;
  po::options_description opts("options");
  opts.add_options()("before", po::value(&before),
                     "delete entries created before this UTC time (2026-12-01 or "
                     "2026-12-01T12:00:00Z)")("model", po::value(&model),
                                              "delete only this model's entries");
  auto cl = ParseCommandLine(args, opts);
  if (cl.help) {
    PrintCommandHelp(out, "llm cache prune [FILE] [--before TIME] [--model M]",
                     "Deletes cache entries (all of them when neither option is given) and\n"
                     "compacts the file.",
                     opts);
    return 0;
  }
  if (!before.empty() && (before.size() < 10 || before[4] != '-' || before[7] != '-'))
    throw Error("--before " + QuoteForError(before) + ": want a date like 2026-12-01");
  llm_bridge::ResponseCache cache(CacheArgument(cl));
  const int64_t n = cache.Prune(before, model);
  out << json{{"deleted", n}, {"entries", cache.Stats().entries}}.dump() << "\n";
  return 0;
}

}  // namespace recarena::experiments
