#include "experiments/cli/cli.h"

#include <fmt/format.h>

#include <c10/util/Exception.h>

#include <boost/program_options/errors.hpp>
#include <new>
#include <string>

#include "core/error.h"
#include "core/strings.h"
#include "experiments/cli/conformal_commands.h"
#include "experiments/cli/data_commands.h"
#include "experiments/cli/dt_sweep_command.h"
#include "experiments/cli/eval_commands.h"
#include "experiments/cli/launch_command.h"
#include "experiments/cli/llm_commands.h"
#include "experiments/cli/online_commands.h"
#include "experiments/cli/sim_commands.h"
#include "experiments/cli/stability_command.h"
#include "experiments/cli/train_command.h"
#include "models/device.h"

namespace recarena::experiments {

namespace {
std::string CommandName(const CliCommand& c) { return Join(c.words, " "); }

void PrintUsage(std::ostream& out) {
  out << "recarena - reinforcement-learning recommender agents meet simulated users\n\n"
         "usage: recarena <command> [options]   (recarena <command> --help for its options)\n\n"
         "commands:\n";
  for (const auto& c : Commands()) out << fmt::format("  {:<22} {}\n", CommandName(c), c.summary);
  out << "\nconfig overrides: any command taking --config also accepts section.key=value "
         "arguments\n";
}

// `recarena info` / `recarena --version`: the LibTorch linked, whether CUDA is compiled in, the
// GPUs.
int RunInfo(const std::vector<std::string>& args, std::ostream& out) {
  if (!args.empty()) {
    throw Error("info takes no arguments (got " + QuoteForError(args[0]) + ")");
  }
  out << "recarena " << RECARENA_VERSION << "\n"
      << models::FormatTorchBuild(models::QueryTorchBuild());
  return 0;
}
}  // namespace

const std::vector<CliCommand>& Commands() {
  static const std::vector<CliCommand> commands = [] {
    std::vector<CliCommand> c;
    c.push_back({{"info"},
                 "the recarena and LibTorch versions, whether CUDA is compiled in, the GPUs seen",
                 RunInfo});
    c.push_back({{"data", "prepare"},
                 "load a dataset, preprocess, split, window; write a prepared dataset directory",
                 RunDataPrepare});
    c.push_back({{"data", "stats"},
                 "print statistics of a prepared dataset directory as JSON",
                 RunDataStats});
    c.push_back({{"train"},
                 "train a sequential recommender offline (supervised next-item / popularity)",
                 RunTrain});
    c.push_back({{"launch"}, "run N processes of a command as one distributed job", RunLaunch});
    c.push_back({{"eval", "rankings"},
                 "score rankings from plain text files (HR, NDCG, MRR, coverage, ...)",
                 RunEvalRankings});
    c.push_back({{"stability"},
                 "train, retrain on perturbed data from the same initial weights, compare rankings",
                 RunStability});
    c.push_back({{"eval", "stability"},
                 "compare two rankings of the same queries (RBO, AO, FRBO, Jaccard)",
                 RunEvalStability});
    c.push_back({{"eval", "ope"},
                 "off-policy estimates (IPS, SNIPS, DR, clipped) of a trained run's policy from "
                 "logged data",
                 RunEvalOpe});
    c.push_back(
        {{"conformal"},
         "conformal prediction sets over items from any model's scores (coverage, set size)",
         RunConformal});
    c.push_back({{"conformal-eval"},
                 "conformal sets of a trained run on its test windows: coverage and set size per "
                 "alpha, score, split",
                 RunConformalEval});
    c.push_back({{"dt-sweep"},
                 "accuracy vs coverage of a trained MODT4R/MRDT run over its inference "
                 "parameters alpha and lambda (table + plot)",
                 RunDtSweepCommand});
    c.push_back({{"sim", "fit"},
                 "fit a user simulator (response, leave and start-state models) from logs",
                 RunSimFit});
    c.push_back({{"sim", "report"},
                 "fidelity report of a fitted simulator (held-out AUC, calibration, lengths KS)",
                 RunSimReport});
    c.push_back({{"sim", "rollout"},
                 "run random / popular / oracle in a fitted simulator: Return, Length, R_avg",
                 RunSimRollout});
    c.push_back({{"sim", "predict"},
                 "score (user, history, item) pairs from a file with a role's response model",
                 RunSimPredict});
    c.push_back({{"online"},
                 "train one online agent (DQN, PG, A2C, decision transformer, baselines) in a "
                 "fitted simulator",
                 RunOnlineCommand});
    c.push_back({{"experiment"},
                 "grid of agents x exploration x seeds x simulators: results.csv, table, plots",
                 RunExperimentCommand});
    c.push_back({{"llm", "check"},
                 "ask the configured LLM a few preference prompts: answers, parse rate, latency",
                 RunLlmCheckCommand});
    c.push_back({{"llm", "distill"},
                 "iALP: pre-train an actor-critic on preferences distilled from an LLM (D_LLM)",
                 RunLlmDistillCommand});
    c.push_back({{"llm", "oracle-server"},
                 "serve the oracle teacher over the OpenAI-compatible API (a control for iALP)",
                 RunLlmOracleServerCommand});
    c.push_back({{"llm", "cache", "stats"},
                 "entries, hits and size of an LLM response cache",
                 RunLlmCacheStats});
    c.push_back(
        {{"llm", "cache", "export"}, "an LLM response cache as JSON lines", RunLlmCacheExport});
    c.push_back(
        {{"llm", "cache", "prune"}, "delete LLM cache entries by age or model", RunLlmCachePrune});
    return c;
  }();
  return commands;
}

namespace {
// A size in the config or flags that asks for more memory than the machine has is a user error:
// say so, name the usual suspects, and keep LibTorch's figure when it gave one.
std::string OutOfMemory(const std::string& command, const std::string& detail) {
  std::string figure;
  const auto at = detail.find("you tried to allocate");
  if (at != std::string::npos) figure = " (" + detail.substr(at, detail.find('.', at) - at) + ")";
  return "recarena " + command + ": error: out of memory" + figure +
         ": a size in the config or flags asks for more than this machine has (model sizes such "
         "as model.encoder.hidden, catalog and user counts such as data.synthetic.num_items, "
         "batch sizes, --num-envs); make it smaller\n";
}
}  // namespace

int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(out);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") return RunInfo({}, out);
  // Longest match of command words.
  const CliCommand* best = nullptr;
  size_t best_len = 0;
  for (const auto& c : Commands()) {
    if (c.words.size() > args.size()) continue;
    bool match = true;
    for (size_t i = 0; i < c.words.size(); ++i) match = match && c.words[i] == args[i];
    if (match && c.words.size() > best_len) {
      best = &c;
      best_len = c.words.size();
    }
  }
  if (!best) {
    std::vector<std::string> names;
    for (const auto& c : Commands()) names.push_back(CommandName(c));
    std::string attempted = args[0];
    if (args.size() > 1 && args[1].rfind("-", 0) != 0) attempted += " " + args[1];
    // A group word alone ("recarena data") lists its commands.
    bool group = false;
    for (const auto& c : Commands()) group = group || c.words[0] == args[0];
    if (group) {
      err << "recarena " << args[0] << ": choose one of:\n";
      for (const auto& c : Commands()) {
        if (c.words[0] == args[0]) err << fmt::format("  {:<22} {}\n", CommandName(c), c.summary);
      }
      return 2;
    }
    err << "recarena: unknown command '" << attempted << "'" << DidYouMean(attempted, names)
        << "\nrun 'recarena --help' for the list of commands\n";
    return 2;
  }
  std::vector<std::string> rest(args.begin() + static_cast<long>(best_len), args.end());
  try {
    return best->run(rest, out);
  } catch (const boost::program_options::error& e) {
    err << "recarena " << CommandName(*best) << ": " << e.what() << "\n(see 'recarena "
        << CommandName(*best) << " --help')\n";
    return 2;
  } catch (const Error& e) {
    err << "recarena " << CommandName(*best) << ": error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos ||
        what.find("out of memory") != std::string::npos) {
      err << OutOfMemory(CommandName(*best), what);
      return 2;
    }
    // A LibTorch failure outside the checked paths: its message without the C++ stack trace.
    err << "recarena " << CommandName(*best) << ": internal error: " << what << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    err << OutOfMemory(CommandName(*best), "");
    return 2;
  } catch (const std::exception& e) {
    // Not a user error: a bug (or a library failure) - status 1, with the message.
    err << "recarena " << CommandName(*best) << ": internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace recarena::experiments
