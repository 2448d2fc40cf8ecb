#include "env/simulator.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/json_read.h"
#include "env/leave_model.h"
#include "models/checkpoint.h"

namespace recarena::env {

std::string RoleName(SimRole role) {
  switch (role) {
    case SimRole::kTrain:
      return "train";
    case SimRole::kTest:
      return "test";
    case SimRole::kEval:
      return "eval";
  }
  return "?";
}

SimRole ParseRole(const std::string& name) {
  if (name == "train") return SimRole::kTrain;
  if (name == "test") return SimRole::kTest;
  if (name == "eval") return SimRole::kEval;
  throw Error("unknown simulator role " + QuoteForError(name) + " (choices: train, test, eval)");
}

void Simulator::to(torch::Device device) {
  response->to(device);
  if (item_keys.defined()) item_keys = item_keys.to(device);
}

namespace {

torch::Tensor I64(const std::vector<int64_t>& v) {
  return torch::tensor(v.empty() ? std::vector<int64_t>{} : v, torch::kInt64);
}

std::vector<int64_t> ToVector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// The models' construction inputs that are not in the config, stored beside their weights.
struct ModelShape {
  DeepFmShape deepfm;
  torch::Tensor utility;  // ground truth only
  double no_click = 0.0, temperature = 1.0;
};

}  // namespace

void SaveSimulatorRole(const std::filesystem::path& dir, const Simulator& sim) {
  torch::serialize::OutputArchive archive;
  const auto& models = sim.response->models();
  archive.write("num_models", torch::tensor(static_cast<int64_t>(models.size())));
  for (size_t k = 0; k < models.size(); ++k) {
    torch::serialize::OutputArchive sub;
    models[k]->save(sub);
    archive.write("model_" + std::to_string(k), sub);
  }
  if (auto* fm = dynamic_cast<DeepFmResponseImpl*>(models[0].get())) {
    for (const auto& item : fm->named_buffers()) {
      archive.write("shape_" + item.key(), item.value().to(torch::kCPU));
    }
  }
  if (auto* gt = dynamic_cast<GroundTruthResponseImpl*>(models[0].get())) {
    archive.write("gt_params",
                  torch::tensor({gt->no_click_utility_, gt->temperature_}, torch::kDouble));
  }
  const Calibration& cal = sim.response->calibration();
  if (!cal.identity()) {
    archive.write("calibration",
                  torch::tensor({static_cast<double>(static_cast<int>(cal.kind)), cal.a, cal.b},
                                torch::kDouble));
    if (cal.kind == CalibrationKind::kIsotonic) {
      archive.write("calibration_knots", torch::stack({torch::tensor(cal.knot_x, torch::kDouble),
                                                       torch::tensor(cal.knot_y, torch::kDouble)}));
    }
  }
  archive.write("hazard", torch::tensor(sim.hazard, torch::kDouble));
  if (!sim.leave_weights.empty()) {
    archive.write("leave_weights", torch::tensor(sim.leave_weights, torch::kDouble));
  }
  std::vector<int64_t> start_users;
  int64_t k_max = 1;
  for (const auto& s : sim.starts) k_max = std::max<int64_t>(k_max, s.items.size());
  auto start_items =
      torch::full({static_cast<int64_t>(sim.starts.size()), k_max}, -1, torch::kInt64);
  for (size_t p = 0; p < sim.starts.size(); ++p) {
    start_users.push_back(sim.starts[p].user);
    for (size_t j = 0; j < sim.starts[p].items.size(); ++j) {
      start_items[p][j] = sim.starts[p].items[j];
    }
  }
  archive.write("start_users", I64(start_users));
  archive.write("start_items", start_items);
  if (sim.item_keys.defined()) archive.write("item_keys", sim.item_keys.to(torch::kCPU));
  archive.write("similarity_threshold", torch::tensor(sim.similarity_threshold, torch::kDouble));
  archive.write("logged_session_lengths", I64(sim.logged_session_lengths));
  archive.write("logged_item_counts", I64(sim.logged_item_counts));
  models::SaveArchiveFile(dir / RoleName(sim.role) / "components.pt", archive, dir / "config.yaml");
}

void ApplyWorldLeave(SimConfig& role_cfg, const data::SyntheticConfig& world) {
  auto& leave = role_cfg.leave;
  leave.repetition.enabled = false;
  leave.hazard.enabled = false;
  leave.hazard.conditional = false;
  leave.patience.enabled = true;
  leave.patience.init = world.patience_init;
  leave.patience.cost_rejected = world.patience_cost_no_click;
  leave.patience.cost_accepted = world.patience_cost_click;
}

std::vector<SimRole> FittedRoles(const std::filesystem::path& dir) {
  const auto meta_file = dir / "simulator.json";
  if (!std::filesystem::exists(meta_file)) {
    throw FileError(meta_file.string(), 0,
                    "not a fitted simulator directory (no simulator.json; run `recarena sim fit` "
                    "first, or it was interrupted before finishing)");
  }
  const nlohmann::json meta = ParseJson(ReadFile(meta_file), meta_file.string());
  std::vector<SimRole> roles;
  if (!meta.contains("roles") || !meta["roles"].is_object()) {
    throw FileError(meta_file.string(), 0, "missing object \"roles\"");
  }
  for (const auto& [name, _] : meta["roles"].items()) roles.push_back(ParseRole(name));
  return roles;
}

std::shared_ptr<Simulator> LoadSimulator(const std::filesystem::path& dir, SimRole role,
                                         torch::Device device) {
  const auto roles = FittedRoles(dir);
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
    std::string have;
    for (auto r : roles) have += (have.empty() ? "" : ", ") + RoleName(r);
    throw FileError(
        (dir / "simulator.json").string(), 0,
        "the simulator has no " + RoleName(role) + " role (fitted roles: " + have + ")");
  }
  const auto meta = ParseJson(ReadFile(dir / "simulator.json"), (dir / "simulator.json").string());
  const auto& rm = meta["roles"][RoleName(role)];
  auto cfg = config::Load<SimFitConfig>(dir / "config.yaml");

  auto sim = std::make_shared<Simulator>();
  sim->role = role;
  sim->cfg = cfg.sim;
  sim->num_items = rm.at("num_items").get<int64_t>();
  sim->num_users = rm.at("num_users").get<int64_t>();
  sim->state_len = rm.at("state_len").get<int64_t>();
  sim->ground_truth = rm.at("ground_truth").get<bool>();
  if (sim->ground_truth && cfg.sim.eval.leave == EvalLeaveKind::kWorld) {
    ApplyWorldLeave(sim->cfg, cfg.data.synthetic);
    sim->world_patience = true;
  }

  const auto file = dir / RoleName(role) / "components.pt";
  if (!std::filesystem::exists(file)) throw FileError(file.string(), 0, "missing simulator file");
  torch::serialize::InputArchive archive =
      models::OpenArchive(file, "unreadable simulator components");
  auto read = [&](const std::string& key) {
    torch::Tensor t;
    if (!archive.try_read(key, t))
      throw FileError(file.string(), 0, "missing entry " + QuoteForError(key));
    return t;
  };
  const int64_t K = read("num_models").item<int64_t>();
  ModelShape shape;
  shape.deepfm.num_users = sim->num_users;
  shape.deepfm.num_items = sim->num_items;
  // A fresh tensor per read: InputArchive::try_read sets the given tensor in place.
  torch::Tensor user_features, item_features;
  if (archive.try_read("shape_user_features", user_features)) {
    shape.deepfm.user_features = user_features;
  }
  if (archive.try_read("shape_item_features", item_features)) {
    shape.deepfm.item_features = item_features;
  }
  std::vector<std::shared_ptr<ResponseModelImpl>> models;
  auto response_cfg = cfg.sim.response;
  if (sim->ground_truth) {
    auto params = read("gt_params");
    torch::Tensor utility;
    torch::serialize::InputArchive sub;
    archive.read("model_0", sub);
    sub.read("utility", utility, /*is_buffer=*/true);
    models.push_back(std::make_shared<GroundTruthResponseImpl>(utility, params[0].item<double>(),
                                                               params[1].item<double>()));
    response_cfg.target = ResponseTarget::kClick;
    response_cfg.reward = cfg.sim.response.reward == RewardMode::kValue ? RewardMode::kProbability
                                                                        : cfg.sim.response.reward;
    response_cfg.reward_min = 0.0;
    response_cfg.reward_max = 1.0;
    response_cfg.pessimism = 0.0;
  } else {
    for (int64_t k = 0; k < K; ++k) {
      auto m = MakeResponseModel(response_cfg, shape.deepfm);
      torch::serialize::InputArchive sub;
      const std::string name = "model_" + std::to_string(k);
      archive.read(name, sub);
      models::NameFileInErrors(file, name, [&] { models::LoadModule(*m, sub); });
      // The similarities are data, not parameters: check them as a file's content.
      if (auto* seq = dynamic_cast<SequentialResponseImpl*>(m.get());
          seq != nullptr && response_cfg.neighbourhood) {
        try {
          CheckCoOccurrence({seq->nb_keys_, seq->nb_values_, seq->num_items_});
        } catch (const Error& e) {
          throw FileError(file.string(), 0, name + ": " + e.what());
        }
      }
      models.push_back(m);
    }
  }
  // Pessimism shapes what an agent learns; it never applies to the roles that measure agents.
  if (role != SimRole::kTrain) response_cfg.pessimism = 0.0;
  sim->response = std::make_shared<ResponseEnsemble>(response_cfg, std::move(models));
  torch::Tensor cal_t;
  if (archive.try_read("calibration", cal_t)) {
    if (cal_t.numel() != 3) {
      throw FileError(file.string(), 0,
                      "entry 'calibration' must hold 3 numbers, got " + c10::str(cal_t.sizes()));
    }
    auto c = cal_t.to(torch::kDouble).contiguous();
    const auto* v = c.data_ptr<double>();
    if (v[0] != 1.0 && v[0] != 2.0 && v[0] != 3.0) {
      throw FileError(file.string(), 0,
                      "entry 'calibration' has an unknown kind " + std::to_string(v[0]));
    }
    Calibration cal;
    cal.kind = static_cast<CalibrationKind>(static_cast<int>(v[0]));
    cal.target = response_cfg.target;
    cal.a = v[1];
    cal.b = v[2];
    if (cal.kind == CalibrationKind::kIsotonic) {
      torch::Tensor knots;
      if (!archive.try_read("calibration_knots", knots) || knots.dim() != 2 || knots.size(0) != 2) {
        throw FileError(file.string(), 0,
                        "isotonic calibration needs an entry 'calibration_knots' of shape [2, K]");
      }
      knots = knots.to(torch::kDouble).contiguous();
      const auto* kv = knots.data_ptr<double>();
      const auto k = static_cast<size_t>(knots.size(1));
      cal.knot_x.assign(kv, kv + k);
      cal.knot_y.assign(kv + k, kv + 2 * k);
      try {
        CheckIsotonicKnots(cal);
      } catch (const Error& e) {
        throw FileError(file.string(), 0, e.what());
      }
    }
    sim->response->SetCalibration(cal);
  }
  auto hz = read("hazard").contiguous();
  sim->hazard.assign(hz.data_ptr<double>(), hz.data_ptr<double>() + hz.numel());
  torch::Tensor lw;
  if (archive.try_read("leave_weights", lw)) {
    lw = lw.to(torch::kDouble).contiguous();
    if (lw.numel() != 1 + kLeaveFeatures) {
      throw FileError(file.string(), 0,
                      "entry 'leave_weights' must hold " + std::to_string(1 + kLeaveFeatures) +
                          " numbers, got " + c10::str(lw.sizes()));
    }
    sim->leave_weights.assign(lw.data_ptr<double>(), lw.data_ptr<double>() + lw.numel());
  }
  if (sim->cfg.leave.hazard.conditional && sim->leave_weights.empty()) {
    throw FileError(file.string(), 0,
                    "the config asks for a conditional leave hazard but the components hold no "
                    "'leave_weights' (fitted by an older recarena: refit the simulator)");
  }
  auto users = ToVector(read("start_users"));
  auto items = read("start_items");
  for (size_t p = 0; p < users.size(); ++p) {
    StartState s;
    s.user = users[p];
    for (int64_t v : ToVector(items[static_cast<int64_t>(p)])) {
      if (v >= 0) s.items.push_back(v);
    }
    sim->starts.push_back(std::move(s));
  }
  if (sim->starts.empty()) throw FileError(file.string(), 0, "no start states");
  torch::Tensor keys;
  if (archive.try_read("item_keys", keys)) sim->item_keys = keys;
  sim->similarity_threshold = read("similarity_threshold").item<double>();
  sim->logged_session_lengths = ToVector(read("logged_session_lengths"));
  sim->logged_item_counts = ToVector(read("logged_item_counts"));
  sim->to(device);
  return sim;
}

std::vector<double> FitHazard(const std::vector<int64_t>& lengths, int64_t max_len,
                              double smoothing) {
  if (lengths.empty()) throw Error("cannot fit a leave hazard to zero sessions");
  if (max_len < 1) throw Error("hazard max_len must be >= 1");
  std::vector<double> exact(static_cast<size_t>(max_len) + 1, 0.0);
  double total_len = 0.0;
  for (int64_t l : lengths) {
    if (l < 1) throw Error("session length must be >= 1, got " + std::to_string(l));
    total_len += static_cast<double>(l);
    if (l <= max_len) exact[static_cast<size_t>(l)] += 1.0;
  }
  const double g = static_cast<double>(lengths.size()) / total_len;
  std::vector<double> h(static_cast<size_t>(max_len));
  double at_risk = static_cast<double>(lengths.size());
  for (int64_t t = 1; t <= max_len; ++t) {
    const double d = exact[static_cast<size_t>(t)];
    const double denom = at_risk + smoothing;
    h[static_cast<size_t>(t - 1)] = denom > 0 ? (d + smoothing * g) / denom : g;
    at_risk -= d;
  }
  return h;
}

double KsDistance(std::vector<int64_t> a, std::vector<int64_t> b) {
  if (a.empty() || b.empty()) return 1.0;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double best = 0.0;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  while (i < a.size() || j < b.size()) {
    int64_t x;
    if (j >= b.size() || (i < a.size() && a[i] <= b[j])) {
      x = a[i];
    } else {
      x = b[j];
    }
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    best = std::max(best, std::abs(static_cast<double>(i) / na - static_cast<double>(j) / nb));
  }
  return best;
}

}  // namespace recarena::env
