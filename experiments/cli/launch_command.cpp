#include "experiments/cli/launch_command.h"

#include <algorithm>

#include "core/error.h"
#include "dist/launch.h"
#include "experiments/cli/command_util.h"

namespace recarena::experiments {

namespace po = boost::program_options;

int RunLaunch(const std::vector<std::string>& args, std::ostream& out) {
  const auto dashes = std::find(args.begin(), args.end(), "--");
  const std::vector<std::string> own(args.begin(), dashes);
  const std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());
  dist::LaunchOptions o;
  po::options_description opts("options");
  opts.add_options()("nproc", po::value(&o.nproc)->default_value(o.nproc), "processes to start")(
      "master-port", po::value(&o.master_port)->default_value(o.master_port),
      "rendezvous port on 127.0.0.1 (0: a free one)")(
      "timeout", po::value(&o.timeout_s)->default_value(o.timeout_s),
      "seconds a collective may wait for a peer before the job fails (0: the command's default, "
      "RECARENA_DIST_TIMEOUT_S or 600)");
  auto cl = ParseCommandLine(own, opts);
  if (cl.help) {
    PrintCommandHelp(
        out, "launch --nproc N [--master-port P] [--timeout S] -- COMMAND [ARGS...]",
        "Starts N processes of COMMAND on this machine as one data-parallel job, each with\n"
        "RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set as\n"
        "torchrun sets them (COMMAND 'recarena' is this executable). When one process fails or\n"
        "is killed, the others are stopped and the launch exits with its status.\n"
        "Example: recarena launch --nproc 2 -- recarena train --config configs/offline/x.yaml\n"
        "(docs/distributed.md).",
        opts);
    return 0;
  }
  if (!cl.positional.empty() || !cl.overrides.empty()) {
    const std::string extra = cl.positional.empty() ? cl.overrides[0] : cl.positional[0];
    throw Error("unexpected argument " + QuoteForError(extra) +
                " before '--' (the command to launch goes after it)");
  }
  if (command.empty()) throw Error("no command to launch: give it after '--'");
  return dist::LaunchLocal(o, command);
}

}  // namespace recarena::experiments
