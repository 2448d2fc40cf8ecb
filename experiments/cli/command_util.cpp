#include "experiments/cli/command_util.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"

namespace recarena::experiments {

namespace po = boost::program_options;

ParsedCommandLine ParseCommandLine(const std::vector<std::string>& args,
                                   po::options_description options) {
  options.add_options()("help,h", "show this help");
  ParsedCommandLine out;
  po::parsed_options parsed =
      po::command_line_parser(args).options(options).allow_unregistered().run();
  for (const auto& opt : parsed.options) {
    if (opt.position_key >= 0 || opt.string_key.empty()) {
      for (const auto& v : opt.original_tokens) {
        if (v.find('=') != std::string::npos && v.rfind("-", 0) != 0) {
          out.overrides.push_back(v);
        } else {
          out.positional.push_back(v);
        }
      }
    } else if (opt.unregistered) {
      throw po::unknown_option(opt.string_key);
    }
  }
  po::store(parsed, out.vm);
  out.help = out.vm.count("help") > 0;
  if (!out.help) po::notify(out.vm);
  return out;
}

void PrintCommandHelp(std::ostream& out, const std::string& usage, const std::string& description,
                      const po::options_description& options) {
  out << "usage: recarena " << usage << "\n\n" << description << "\n\n" << options << "\n";
}

std::filesystem::path SetupRunDir(const RunConfig& run, const std::string& explicit_out) {
  log::SetLevel(log::ParseLevel(run.log_level));
  if (!explicit_out.empty()) return EnsureDir(explicit_out);
  if (!run.out.empty()) return EnsureDir(run.out);
  return CreateRunDir(run.dir, run.name);
}

}  // namespace recarena::experiments
