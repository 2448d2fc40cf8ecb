#include "env/sim_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "data/load_coat.h"
#include "env/item_neighbourhood.h"
#include "env/leave_model.h"
#include "models/device.h"
#include "models/item_attributes.h"

namespace recarena::env {
namespace {

int PartIndex(const data::Dataset& ds, const std::string& name, const std::string& key) {
  for (size_t i = 0; i < ds.parts.size(); ++i) {
    if (ds.parts[i] == name) return static_cast<int>(i);
  }
  std::string have;
  for (const auto& p : ds.parts) have += (have.empty() ? "" : ", ") + p;
  throw ConfigError(key, key + ": dataset " + QuoteForError(ds.name) + " has no part " +
                             QuoteForError(name) + " (its parts: " + have + ")");
}

}  // namespace

SimData BuildSimData(const SimFitConfig& cfg) {
  cfg.Validate();
  SimData out;
  out.prepared = data::PrepareDataset(cfg.data, cfg.run.seed);
  const data::Dataset& ds = out.prepared.dataset;
  const auto& sim = cfg.sim;

  int eval_part = -1;
  if (sim.eval.kind == EvalSimKind::kPart)
    eval_part = PartIndex(ds, sim.eval.part, "sim.eval.part");
  if (sim.eval.kind == EvalSimKind::kGroundTruth && !out.prepared.truth) {
    throw ConfigError("sim.eval.kind",
                      "sim.eval.kind ground_truth: the synthetic world's ground truth is not "
                      "available after preprocessing removed users or items (drop the filters)");
  }
  std::vector<int> fit_parts;
  if (!sim.fit_parts.empty()) {
    for (const auto& name : sim.fit_parts)
      fit_parts.push_back(PartIndex(ds, name, "sim.fit_parts"));
  } else if (eval_part >= 0) {
    for (int i = 0; i < static_cast<int>(ds.parts.size()); ++i) {
      if (i != eval_part) fit_parts.push_back(i);
    }
    if (fit_parts.empty()) {
      throw ConfigError("sim.eval.part", "sim.eval.part " + QuoteForError(sim.eval.part) +
                                             " is the dataset's only part: nothing left to fit "
                                             "the train and test simulators on");
    }
  }
  if (sim.leave.repetition.enabled &&
      sim.leave.repetition.similarity == SimilarityKind::kFeatures && ds.items.feature_dim == 0) {
    throw ConfigError("sim.leave.repetition.similarity",
                      "sim.leave.repetition.similarity features needs item features, and dataset " +
                          QuoteForError(ds.name) + " has none (use category or item)");
  }
  const auto seqs = data::BuildSequences(ds, out.prepared.unit, fit_parts);
  out.exposures = data::ExposureIndex(ds, out.prepared.unit, fit_parts);
  if (sim.response.negative_sampling == NegativeSampling::kExposure && out.exposures.empty()) {
    throw ConfigError("sim.response.negative_sampling",
                      "sim.response.negative_sampling: exposure needs a log that records the "
                      "items shown and not picked, and dataset " +
                          QuoteForError(ds.name) +
                          " has none (the synthetic world records them with "
                          "data.synthetic.log_exposures: true)");
  }
  std::set<data::UserId> user_set;
  for (const auto& s : seqs) user_set.insert(s.user);
  std::vector<data::UserId> users(user_set.begin(), user_set.end());
  if (users.size() < 2) {
    throw ConfigError("data",
                      "the simulator needs logs of at least 2 users to split them into train "
                      "and test simulators; got " +
                          std::to_string(users.size()));
  }
  Rng rng = Rng(cfg.run.seed).Fork(10);
  rng.Shuffle(users);
  auto cut = static_cast<size_t>(
      std::floor(sim.user_train_share * static_cast<double>(users.size()) + 0.5 + 1e-9));
  cut = std::clamp<size_t>(cut, 1, users.size() - 1);
  out.train_users.assign(users.begin(), users.begin() + static_cast<std::ptrdiff_t>(cut));
  out.test_users.assign(users.begin() + static_cast<std::ptrdiff_t>(cut), users.end());
  std::sort(out.train_users.begin(), out.train_users.end());
  std::sort(out.test_users.begin(), out.test_users.end());
  const std::set<data::UserId> train_set(out.train_users.begin(), out.train_users.end());
  auto& train = out.sequences[SimRole::kTrain];
  auto& test = out.sequences[SimRole::kTest];
  for (const auto& s : seqs) (train_set.count(s.user) ? train : test).push_back(s);
  out.roles = {SimRole::kTrain, SimRole::kTest};
  if (sim.eval.kind == EvalSimKind::kPart) {
    out.sequences[SimRole::kEval] = data::BuildSequences(ds, out.prepared.unit, {eval_part});
    out.roles.push_back(SimRole::kEval);
  } else if (sim.eval.kind == EvalSimKind::kGroundTruth) {
    out.sequences[SimRole::kEval] = test;  // start states from the test users; truth responds
    out.roles.push_back(SimRole::kEval);
  }
  return out;
}

std::vector<float> IpsWeights(const data::Dataset& ds, const data::DataConfig& data,
                              const ResponseRows& rows, int64_t negatives, double clip) {
  if (data.dataset != data::DatasetKind::kCoat) {
    throw ConfigError("sim.response.ips",
                      "sim.response.ips needs known exposure propensities, which only the coat "
                      "dataset has (propensities.ascii); dataset " +
                          QuoteForError(ds.name) + " has none");
  }
  const auto prop = data::LoadCoatPropensities(data::ResolveSource(data));
  std::vector<float> w(rows.size(), 1.0f);
  const auto group = static_cast<size_t>(1 + std::max<int64_t>(0, negatives));
  for (size_t r = 0; r < rows.size(); r += group) {
    const double inv = 1.0 / prop.OfDense(ds, static_cast<data::UserId>(rows.users[r]),
                                          static_cast<data::ItemId>(rows.actions[r]));
    w[r] = static_cast<float>(clip > 0.0 ? std::min(inv, clip) : inv);
  }
  return w;
}

std::vector<int64_t> SessionLengths(const std::vector<data::Sequence>& seqs, double gap_minutes) {
  std::vector<int64_t> out;
  for (const auto& s : seqs) {
    for (const auto& [begin, end] : SessionPieces(s, gap_minutes)) out.push_back(end - begin);
  }
  return out;
}

namespace {

// Similarity keys and threshold for the repetition rule (see Simulator::item_keys).
std::pair<torch::Tensor, double> ItemKeys(const data::Dataset& ds,
                                          const RepetitionLeaveConfig& cfg) {
  const int64_t I = ds.items.size();
  if (cfg.similarity == SimilarityKind::kItem) return {torch::Tensor(), 0.5};
  if (cfg.similarity == SimilarityKind::kFeatures) {
    auto f = torch::from_blob(const_cast<float*>(ds.items.features.data()),
                              {I, ds.items.feature_dim}, torch::kFloat)
                 .clone();
    f = f / f.norm(2, 1, true).clamp_min(1e-12);
    return {f, cfg.threshold};
  }
  torch::Tensor keys = models::CategoryMultiHot(ds.items);
  if (!keys.defined()) return {torch::Tensor(), 0.5};  // no categories: the same item only
  return {keys, 0.5};  // dot >= 0.5 <=> at least one shared category
}

torch::Tensor Features(const std::vector<float>& values, int64_t rows, int64_t dim) {
  if (dim == 0) return torch::Tensor();
  return torch::from_blob(const_cast<float*>(values.data()), {rows, dim}, torch::kFloat).clone();
}

}  // namespace

std::shared_ptr<Simulator> FitRole(const SimFitConfig& cfg, const SimData& data, SimRole role,
                                   torch::Device device,
                                   const std::function<void(const std::string&)>& report) {
  const data::Dataset& ds = data.prepared.dataset;
  const auto& seqs = data.sequences.at(role);
  if (seqs.empty()) {
    throw ConfigError("sim", "the " + RoleName(role) + " simulator has no logged sequences to fit");
  }
  auto sim = std::make_shared<Simulator>();
  sim->role = role;
  sim->cfg = cfg.sim;
  sim->num_items = ds.items.size();
  sim->num_users = ds.users.size();
  sim->state_len = cfg.sim.response.encoder.state_len;
  const uint64_t role_stream = 100 + static_cast<uint64_t>(role);
  Rng role_rng = Rng(cfg.run.seed).Fork(role_stream);

  auto response_cfg = cfg.sim.response;
  response_cfg.encoder.num_items = sim->num_items;
  std::vector<std::shared_ptr<ResponseModelImpl>> models;
  if (role == SimRole::kEval && cfg.sim.eval.kind == EvalSimKind::kGroundTruth) {
    const auto& truth = *data.prepared.truth;
    auto util = torch::from_blob(const_cast<float*>(truth.user_affinity.data()),
                                 {truth.num_users, truth.num_topics}, torch::kFloat)
                    .to(torch::kDouble)
                    .matmul(torch::from_blob(const_cast<float*>(truth.item_topics.data()),
                                             {truth.num_items, truth.num_topics}, torch::kFloat)
                                .to(torch::kDouble)
                                .t()) *
                truth.affinity_scale;
    util = util + torch::from_blob(const_cast<float*>(truth.item_quality.data()), {truth.num_items},
                                   torch::kFloat)
                      .to(torch::kDouble)
                      .unsqueeze(0);
    sim->ground_truth = true;
    if (cfg.sim.eval.leave == EvalLeaveKind::kWorld) {
      ApplyWorldLeave(sim->cfg, cfg.data.synthetic);
      sim->world_patience = true;
    }
    models.push_back(std::make_shared<GroundTruthResponseImpl>(
        util.to(torch::kFloat), cfg.data.synthetic.no_click_utility,
        cfg.data.synthetic.choice_temperature));
    response_cfg.target = ResponseTarget::kClick;
    if (response_cfg.reward == RewardMode::kValue) response_cfg.reward = RewardMode::kProbability;
    response_cfg.reward_min = 0.0;
    response_cfg.reward_max = 1.0;
    response_cfg.pessimism = 0.0;
  } else {
    DeepFmShape shape;
    shape.num_users = sim->num_users;
    shape.num_items = sim->num_items;
    shape.user_features = Features(ds.users.features, ds.users.size(), ds.users.feature_dim);
    shape.item_features = Features(ds.items.features, ds.items.size(), ds.items.feature_dim);
    if (role != SimRole::kTrain) response_cfg.pessimism = 0.0;
    const bool calibrate = response_cfg.calibration != CalibrationKind::kNone;
    const bool validate = calibrate || response_cfg.early_stopping > 0;
    // Validation users: a share of the role's users, drawn from their own stream so that the
    // model rows of a fit without validation are unchanged.
    std::vector<data::Sequence> fit_seqs, cal_seqs;
    if (validate) {
      std::set<data::UserId> role_users;
      for (const auto& s : seqs) role_users.insert(s.user);
      std::vector<data::UserId> order(role_users.begin(), role_users.end());
      if (order.size() < 2) {
        throw ConfigError("sim.response.validation_users",
                          "calibration and early stopping need at least 2 users in the " +
                              RoleName(role) + " role's logs, got " + std::to_string(order.size()));
      }
      Rng split_rng = role_rng.Fork(1000);
      split_rng.Shuffle(order);
      auto n_cal = static_cast<size_t>(
          std::llround(response_cfg.validation_users * static_cast<double>(order.size())));
      n_cal = std::clamp<size_t>(n_cal, 1, order.size() - 1);
      const std::set<data::UserId> cal_users(order.begin(),
                                             order.begin() + static_cast<std::ptrdiff_t>(n_cal));
      for (const auto& s : seqs) (cal_users.count(s.user) ? cal_seqs : fit_seqs).push_back(s);
    }
    const auto& train_seqs = validate ? fit_seqs : seqs;
    const NegativeSampler sampler(response_cfg.negative_sampling, sim->num_items,
                                  ItemCounts(train_seqs, sim->num_items));
    ResponseRows val_rows;
    if (validate) {
      Rng rng = role_rng.Fork(1001);
      val_rows = MakeResponseRows(cal_seqs, response_cfg, sim->num_items, sim->state_len, rng,
                                  &sampler, &data.exposures);
    }
    const auto nb = response_cfg.neighbourhood
                        ? BuildCoOccurrence(train_seqs, sim->num_items, sim->state_len)
                        : CoOccurrence{};
    for (int64_t k = 0; k < response_cfg.ensemble; ++k) {
      Rng rng = role_rng.Fork(static_cast<uint64_t>(k));
      torch::manual_seed(MixSeed(cfg.run.seed, role_stream * 1000 + static_cast<uint64_t>(k)));
      auto model = MakeResponseModel(response_cfg, shape, &nb);
      auto rows = MakeResponseRows(train_seqs, response_cfg, sim->num_items, sim->state_len, rng,
                                   &sampler, &data.exposures);
      if (response_cfg.neighbourhood)
        rows.neighbourhood = OutOfFoldNeighbourhood(train_seqs, rows, sim->num_items);
      // IPS corrects the self-selection of the logged ratings; the eval role's random-exposure
      // ratings need none.
      if (response_cfg.ips && role != SimRole::kEval) {
        rows.weights =
            IpsWeights(ds, cfg.data, rows, response_cfg.negatives, response_cfg.ips_clip);
      }
      const std::string what = RoleName(role) + " response model " + std::to_string(k + 1) + "/" +
                               std::to_string(response_cfg.ensemble) + " epoch ";
      TrainResponseModel(
          *model, rows, response_cfg, device, rng,
          [&](int64_t epoch, double loss) {
            if (report) {
              report(what + std::to_string(epoch) + "/" + std::to_string(response_cfg.epochs) +
                     ": loss " + std::to_string(loss) + " (" + std::to_string(rows.size()) +
                     " rows)");
            }
          },
          validate ? &val_rows : nullptr,
          [&](int64_t epoch, double loss) {
            if (report) {
              report(what + std::to_string(epoch) + ": validation loss " + std::to_string(loss) +
                     " (" + std::to_string(val_rows.size()) + " rows)");
            }
          });
      model->to(torch::kCPU);
      models.push_back(model);
    }
    sim->response = std::make_shared<ResponseEnsemble>(response_cfg, std::move(models));
    if (calibrate) {
      const auto& rows = val_rows;
      const auto pred = PredictRows(*sim->response, rows, torch::kCPU);
      const auto cal =
          FitCalibration(response_cfg.calibration, response_cfg.target, pred, rows.targets);
      sim->response->SetCalibration(cal);
      if (report) {
        report(RoleName(role) + " calibration (" + config::EnumToString(cal.kind) + ") on " +
               std::to_string(rows.size()) + " rows of " + std::to_string(cal_seqs.size()) +
               " held-out sequences: " +
               (cal.kind == CalibrationKind::kIsotonic
                    ? std::to_string(cal.knot_x.size()) + " knots"
                    : "a = " + std::to_string(cal.a) + ", b = " + std::to_string(cal.b)));
      }
    }
  }
  if (!sim->response) {
    sim->response = std::make_shared<ResponseEnsemble>(response_cfg, std::move(models));
  }

  // For the eval role on the ground truth, the leave model and lengths come from the test logs.
  sim->logged_session_lengths = SessionLengths(seqs, cfg.sim.leave.hazard.session_gap_minutes);
  sim->hazard =
      FitHazard(sim->logged_session_lengths, cfg.sim.max_length, cfg.sim.leave.hazard.smoothing);
  auto [keys, thr] = ItemKeys(ds, cfg.sim.leave.repetition);
  sim->item_keys = keys;
  sim->similarity_threshold = thr;
  const auto& hz = sim->cfg.leave.hazard;  // the role's own rules (ApplyWorldLeave)
  if (hz.conditional) {
    const auto rows = LoggedHazardRows(seqs, *sim->response, sim->num_items, sim->state_len,
                                       cfg.sim.max_length, hz.session_gap_minutes, sim->item_keys,
                                       sim->similarity_threshold, cfg.sim.leave.repetition.window,
                                       hz.satisfaction_decay, hz.share_counts_repeats, device);
    sim->leave_weights = FitConditionalHazard(rows, sim->hazard);
    if (report) {
      report(RoleName(role) + " conditional leave hazard on " + std::to_string(rows.size()) +
             " logged steps: c = " + std::to_string(sim->leave_weights[0]) +
             ", w_reward = " + std::to_string(sim->leave_weights[1]) +
             ", w_satisfaction = " + std::to_string(sim->leave_weights[2]) +
             ", w_similar = " + std::to_string(sim->leave_weights[3]));
    }
  }
  sim->logged_item_counts.assign(static_cast<size_t>(sim->num_items), 0);
  for (const auto& s : seqs) {
    for (auto item : s.items) ++sim->logged_item_counts[static_cast<size_t>(item)];
  }
  for (const auto& s : seqs) {
    StartState start;
    start.user = s.user;
    const int64_t k = std::min<int64_t>(cfg.sim.initial_items, s.size());
    for (int64_t j = 0; j < k; ++j) start.items.push_back(s.items[static_cast<size_t>(j)]);
    if (!start.items.empty()) sim->starts.push_back(std::move(start));
  }
  return sim;
}

void FitSimulator(const SimFitConfig& cfg, const std::filesystem::path& dir,
                  const std::function<void(const std::string&)>& report) {
  cfg.Validate();
  const auto config_file = dir / "config.yaml";
  const std::string resolved = config::ToYamlString(cfg);
  if (std::filesystem::exists(config_file)) {
    if (ReadFile(config_file) != resolved) {
      throw ConfigError("run.out", "directory " + dir.string() +
                                       " already holds a simulator fitted with a different config; "
                                       "choose another --out or delete it");
    }
  } else {
    WriteFileAtomic(config_file, resolved);
  }
  const auto device = models::ResolveDevice(cfg.run.device);
  const SimData data = BuildSimData(cfg);
  nlohmann::json meta;
  meta["dataset"] = data.prepared.dataset.name;
  meta["num_items"] = data.prepared.dataset.items.size();
  meta["num_users"] = data.prepared.dataset.users.size();
  meta["train_users"] = data.train_users.size();
  meta["test_users"] = data.test_users.size();
  for (SimRole role : data.roles) {
    const auto file = dir / RoleName(role) / "components.pt";
    if (std::filesystem::exists(file)) {
      if (report) report(RoleName(role) + " simulator already fitted (resumed): " + file.string());
    } else {
      auto sim = FitRole(cfg, data, role, device, report);
      SaveSimulatorRole(dir, *sim);
    }
    nlohmann::json rm;
    rm["num_items"] = data.prepared.dataset.items.size();
    rm["num_users"] = data.prepared.dataset.users.size();
    rm["state_len"] = cfg.sim.response.encoder.state_len;
    rm["ground_truth"] = role == SimRole::kEval && cfg.sim.eval.kind == EvalSimKind::kGroundTruth;
    rm["sequences"] = data.sequences.at(role).size();
    meta["roles"][RoleName(role)] = rm;
  }
  WriteFileAtomic(dir / "simulator.json", meta.dump(2) + "\n");
}

}  // namespace recarena::env
