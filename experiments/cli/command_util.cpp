#include "experiments/cli/command_util.h"

#include <typeinfo>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_dir.h"
#include "experiments/train/shared_run_dir.h"

namespace recarena::experiments {

namespace po = boost::program_options;

void RefuseNegativeUnsigned(const po::parsed_options& parsed) {
  if (parsed.description == nullptr) return;
  for (const auto& opt : parsed.options) {
    if (opt.unregistered || opt.string_key.empty()) continue;
    const auto* d = parsed.description->find_nothrow(opt.string_key, false);
    const auto* typed =
        d ? dynamic_cast<const po::typed_value_base*>(d->semantic().get()) : nullptr;
    if (typed == nullptr) continue;
    const std::type_info& t = typed->value_type();
    const bool is_unsigned = t == typeid(unsigned) || t == typeid(unsigned long) ||
                             t == typeid(unsigned long long) || t == typeid(unsigned short);
    if (!is_unsigned) continue;
    for (const auto& v : opt.value) {
      if (v.find('-') != std::string::npos) {
        throw Error("--" + opt.string_key + " must be a non-negative integer, got " +
                    QuoteForError(v));
      }
    }
  }
}

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
  RefuseNegativeUnsigned(parsed);
  po::store(parsed, out.vm);
  out.help = out.vm.count("help") > 0;
  if (!out.help) po::notify(out.vm);
  return out;
}

void PrintCommandHelp(std::ostream& out, const std::string& usage, const std::string& description,
                      const po::options_description& options) {
  out << "usage: recarena " << usage << "\n\n" << description << "\n\n" << options << "\n";
}

std::filesystem::path SetupRunDir(const RunConfig& run, const std::string& explicit_out,
                                  std::filesystem::path* created_root) {
  namespace fs = std::filesystem;
  log::SetLevel(log::ParseLevel(run.log_level));
  const std::string& given = !explicit_out.empty() ? explicit_out : run.out;
  const fs::path target = given.empty() ? fs::path() : fs::path(given);
  // The outermost missing directory on the way to the target (CreateRunDir: run.dir's missing
  // ancestors, else the new directory itself, found after it is named).
  auto outermost_missing = [](const fs::path& p) {
    fs::path missing;
    for (fs::path d = fs::absolute(p).lexically_normal(); !d.empty() && !fs::exists(d);
         d = d.parent_path()) {
      missing = d;
      if (d == d.parent_path()) break;
    }
    return missing;
  };
  fs::path root = outermost_missing(given.empty() ? fs::path(run.dir) : target);
  const fs::path dir = given.empty() ? CreateRunDir(run.dir, run.name) : EnsureDir(target);
  if (root.empty() && given.empty()) root = fs::absolute(dir).lexically_normal();
  if (created_root) *created_root = root;
  return dir;
}

std::filesystem::path SetupJobRunDir(dist::ProcessGroup* group, const RunConfig& run,
                                     const std::string& explicit_out,
                                     const std::string& resolved_yaml,
                                     std::optional<FailedStartCleanup>& cleanup) {
  std::filesystem::path created, lead_dir;
  if (group == nullptr || group->rank() == 0) {
    lead_dir = SetupRunDir(run, explicit_out, &created);
    cleanup.emplace(lead_dir, created);
    CheckRunDirConfig(lead_dir, resolved_yaml);
  } else {
    log::SetLevel(log::Level::kWarn);  // rank 0 reports for the job
  }
  return ShareRunDir(group, lead_dir, resolved_yaml);
}

}  // namespace recarena::experiments
