#include "experiments/report/llm_check.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "env/simulator.h"
#include "experiments/train/llm_chooser.h"
#include "experiments/train/trained_run.h"

namespace recarena::experiments {

using nlohmann::json;

namespace {
// A catalog that needs no data: classic films with their genres.
data::Dataset BuiltInCatalog() {
  data::Dataset ds;
  ds.name = "ml-latest-small";
  const std::vector<std::pair<const char*, std::vector<std::string>>> films = {
      {"Toy Story (1995)", {"Animation", "Children", "Comedy"}},
      {"Heat (1995)", {"Action", "Crime", "Thriller"}},
      {"Se7en (1995)", {"Mystery", "Thriller"}},
      {"The Lion King (1994)", {"Animation", "Children", "Musical"}},
      {"Pulp Fiction (1994)", {"Comedy", "Crime", "Drama"}},
      {"Forrest Gump (1994)", {"Comedy", "Drama", "Romance"}},
      {"The Matrix (1999)", {"Action", "Sci-Fi", "Thriller"}},
      {"Alien (1979)", {"Horror", "Sci-Fi"}},
      {"Finding Nemo (2003)", {"Animation", "Children", "Comedy"}},
      {"The Godfather (1972)", {"Crime", "Drama"}},
      {"Aliens (1986)", {"Action", "Horror", "Sci-Fi"}},
      {"Terminator 2 (1991)", {"Action", "Sci-Fi"}},
      {"Shrek (2001)", {"Animation", "Children", "Comedy"}},
      {"Casablanca (1942)", {"Drama", "Romance"}},
      {"Blade Runner (1982)", {"Action", "Sci-Fi", "Thriller"}},
  };
  for (size_t i = 0; i < films.size(); ++i) ds.items.Intern(std::to_string(i + 1));
  ds.items.Normalize();
  for (size_t i = 0; i < films.size(); ++i) {
    ds.items.titles[i] = films[i].first;
    ds.items.categories[i] = films[i].second;
  }
  ds.users.Intern("check-user");
  return ds;
}
}  // namespace

json RunLlmCheck(const LlmCheckConfig& cfg, const LlmCheckOptions& options, std::ostream& log) {
  if (options.prompts < 1) throw Error("--prompts must be >= 1");
  if (options.k < 1 || options.k > 25) throw Error("--k must be in 1..25");
  data::Dataset ds;
  std::vector<env::StartState> starts;
  if (options.sim.empty()) {
    ds = BuiltInCatalog();
    // Histories of sci-fi / animation fans, over and over.
    starts = {{0, {6, 7, 11}}, {0, {0, 3, 8}}, {0, {1, 2, 9}}};
  } else {
    ds = SimulatorDataset(options.sim).dataset;
    starts = env::LoadSimulator(options.sim, env::SimRole::kTrain)->starts;
  }
  llm_bridge::LlmConfig llm = cfg.llm;
  LlmChooser chooser(llm, llm_bridge::WithDatasetDefaults(cfg.prompt, ds.name), ds.items, ds.users);
  const std::vector<std::string> models = chooser.client().Models();
  log << "LLM server " << cfg.llm.base_url
      << " lists: " << fmt::format("{}", fmt::join(models, ", ")) << "\n";
  Rng rng = Rng(cfg.run.seed).Fork(31);
  const int64_t N = ds.items.size();
  std::vector<agents::ChoiceQuery> queries;
  for (int64_t p = 0; p < options.prompts; ++p) {
    const auto& s = starts[rng.UniformInt(starts.size())];
    agents::ChoiceQuery q;
    q.user = s.user;
    q.history = s.items;
    std::vector<int64_t> pool;
    for (int64_t i = 0; i < N; ++i)
      if (std::find(q.history.begin(), q.history.end(), i) == q.history.end()) pool.push_back(i);
    rng.Shuffle(pool);
    pool.resize(std::min<size_t>(pool.size(), static_cast<size_t>(options.k)));
    q.candidates = pool;
    queries.push_back(q);
  }
  chooser.Choose(queries);
  json answers = json::array();
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto& c = chooser.last_choices()[i];
    const std::string& text = chooser.last_answers()[i];
    log << fmt::format("prompt {}: {} -> {}{}\n", i + 1, QuoteForError(text, 120),
                       llm_bridge::ChoiceKindName(c.kind),
                       c.picked() ? fmt::format(" {}", static_cast<char>('a' + c.index)) : "");
    answers.push_back({{"answer", text},
                       {"kind", llm_bridge::ChoiceKindName(c.kind)},
                       {"position", c.index},
                       {"prompt_chars", chooser.Prompt(queries[i]).size()}});
  }
  json out;
  out["base_url"] = cfg.llm.base_url;
  out["model"] = cfg.llm.model;
  out["server_models"] = models;
  out["catalog"] = options.sim.empty() ? "built-in" : options.sim;
  out["answers"] = answers;
  out["chooser"] = chooser.stats().ToJson();
  out["llm"] = chooser.client().metrics().ToJson();
  return out;
}

}  // namespace recarena::experiments
