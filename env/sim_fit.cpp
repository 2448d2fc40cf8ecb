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

NegativeSampler::NegativeSampler(NegativeSampling kind, int64_t num_items,
                                 const std::vector<int64_t>& counts)
    : kind_(kind), num_items_(num_items) {
  if (num_items < 1) throw Error("NegativeSampler: num_items must be >= 1");
  if (kind_ != NegativeSampling::kPopularity) return;
  if (static_cast<int64_t>(counts.size()) != num_items) {
    throw Error("NegativeSampler: " + std::to_string(counts.size()) + " item counts for " +
                std::to_string(num_items) + " items");
  }
  cdf_.resize(counts.size());
  double total = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] < 0) throw Error("NegativeSampler: negative count for item " + std::to_string(i));
    total += static_cast<double>(counts[i]) + 1.0;
    cdf_[i] = total;
  }
  for (auto& c : cdf_) c /= total;
  cdf_.back() = 1.0;
}

int64_t NegativeSampler::Draw(Rng& rng) const {
  if (kind_ == NegativeSampling::kUniform) {
    return static_cast<int64_t>(rng.UniformInt(static_cast<uint64_t>(num_items_)));
  }
  const double u = rng.Uniform();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min<int64_t>(static_cast<int64_t>(it - cdf_.begin()), num_items_ - 1);
}

ResponseRows SelectRows(const ResponseRows& rows, const std::vector<size_t>& pick) {
  ResponseRows out;
  out.state_len = rows.state_len;
  const auto L = static_cast<size_t>(rows.state_len);
  for (size_t r : pick) {
    if (r >= rows.size())
      throw Error("SelectRows: row " + std::to_string(r) + " of " + std::to_string(rows.size()));
    out.items.insert(out.items.end(), rows.items.begin() + static_cast<std::ptrdiff_t>(r * L),
                     rows.items.begin() + static_cast<std::ptrdiff_t>((r + 1) * L));
    out.lengths.push_back(rows.lengths[r]);
    out.users.push_back(rows.users[r]);
    out.actions.push_back(rows.actions[r]);
    out.targets.push_back(rows.targets[r]);
    if (!rows.weights.empty()) out.weights.push_back(rows.weights[r]);
  }
  return out;
}

ResponseRows HeadRows(const ResponseRows& rows, size_t n) {
  std::vector<size_t> pick(std::min(n, rows.size()));
  std::iota(pick.begin(), pick.end(), 0);
  return SelectRows(rows, pick);
}

std::vector<int64_t> ItemCounts(const std::vector<data::Sequence>& seqs, int64_t num_items) {
  std::vector<int64_t> counts(static_cast<size_t>(num_items), 0);
  for (const auto& s : seqs) {
    for (auto item : s.items) ++counts[static_cast<size_t>(item)];
  }
  return counts;
}

ResponseRows MakeResponseRows(const std::vector<data::Sequence>& seqs, const ResponseConfig& cfg,
                              int64_t num_items, int64_t state_len, Rng& rng,
                              const NegativeSampler* sampler) {
  const NegativeSampler uniform(NegativeSampling::kUniform, num_items);
  if (sampler == nullptr) sampler = &uniform;
  ResponseRows rows;
  rows.state_len = state_len;
  const bool from_first = cfg.kind == ResponseKind::kDeepFm;
  auto add = [&](const data::Sequence& s, int32_t t, int64_t action, float target) {
    const int64_t start = std::max<int64_t>(0, t - state_len);
    const int64_t len = t - start;
    for (int64_t j = 0; j < state_len; ++j) {
      rows.items.push_back(j < len ? s.items[static_cast<size_t>(start + j)] : num_items);
    }
    rows.lengths.push_back(std::max<int64_t>(1, len));
    rows.users.push_back(s.user);
    rows.actions.push_back(action);
    rows.targets.push_back(target);
  };
  const float negative =
      cfg.target == ResponseTarget::kClick ? 0.0f : static_cast<float>(cfg.negative_value);
  for (const auto& s : seqs) {
    for (int32_t t = from_first ? 0 : 1; t < s.size(); ++t) {
      const float positive =
          cfg.target == ResponseTarget::kClick ? 1.0f : s.values[static_cast<size_t>(t)];
      add(s, t, s.items[static_cast<size_t>(t)], positive);
      for (int64_t k = 0; k < cfg.negatives; ++k) {
        add(s, t, sampler->Draw(rng), negative);
      }
    }
  }
  return rows;
}

namespace {

// Rows [b0, b1) as a response-model input on device.
ResponseInput RowsInput(const ResponseRows& rows, int64_t b0, int64_t b1, torch::Device device) {
  const int64_t L = rows.state_len, m = b1 - b0;
  auto slice = [&](const std::vector<int64_t>& v, int64_t width) {
    return torch::tensor(std::vector<int64_t>(v.begin() + b0 * width, v.begin() + b1 * width))
        .to(device);
  };
  return {slice(rows.items, L).view({m, L}), slice(rows.lengths, 1), slice(rows.users, 1),
          slice(rows.actions, 1)};
}

double RowsLoss(ResponseModelImpl& model, const ResponseRows& rows, const ResponseConfig& cfg,
                torch::Device device) {
  torch::NoGradGuard no_grad;
  model.eval();
  const auto n = static_cast<int64_t>(rows.size());
  torch::Tensor sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t b1 = std::min(n, b0 + 4096);
    const ResponseInput in = RowsInput(rows, b0, b1, device);
    auto y = torch::tensor(std::vector<float>(rows.targets.begin() + b0, rows.targets.begin() + b1))
                 .to(device);
    auto out = model.forward(in);
    auto loss = cfg.target == ResponseTarget::kClick
                    ? torch::binary_cross_entropy_with_logits(out, y, {}, {}, at::Reduction::Sum)
                    : torch::mse_loss(out, y, at::Reduction::Sum);
    sum += loss.to(torch::kDouble);  // one read after the loop
  }
  model.train();
  return sum.item<double>() / static_cast<double>(std::max<int64_t>(1, n));
}

}  // namespace

double TrainResponseModel(ResponseModelImpl& model, const ResponseRows& rows,
                          const ResponseConfig& cfg, torch::Device device, Rng& rng,
                          const std::function<void(int64_t, double)>& progress,
                          const ResponseRows* validation,
                          const std::function<void(int64_t, double)>& validation_progress) {
  const auto n = static_cast<int64_t>(rows.size());
  if (n == 0) throw Error("no training rows for the response model");
  model.to(device);
  model.train();
  torch::optim::Adam opt(model.parameters(),
                         torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  const int64_t L = rows.state_len;
  auto items = torch::from_blob(const_cast<int64_t*>(rows.items.data()), {n, L}, torch::kInt64);
  auto lengths = torch::from_blob(const_cast<int64_t*>(rows.lengths.data()), {n}, torch::kInt64);
  auto users = torch::from_blob(const_cast<int64_t*>(rows.users.data()), {n}, torch::kInt64);
  auto actions = torch::from_blob(const_cast<int64_t*>(rows.actions.data()), {n}, torch::kInt64);
  auto targets = torch::from_blob(const_cast<float*>(rows.targets.data()), {n}, torch::kFloat);
  if (!rows.weights.empty() && static_cast<int64_t>(rows.weights.size()) != n) {
    throw Error("TrainResponseModel: " + std::to_string(rows.weights.size()) + " weights for " +
                std::to_string(n) + " rows");
  }
  const torch::Tensor weights =
      rows.weights.empty()
          ? torch::Tensor()
          : torch::from_blob(const_cast<float*>(rows.weights.data()), {n}, torch::kFloat);
  std::vector<int64_t> order(static_cast<size_t>(n));
  double last = 0.0;
  const bool stopping = validation != nullptr && validation->size() > 0 && cfg.early_stopping > 0;
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t since_best = 0;
  std::map<std::string, torch::Tensor> best;
  for (int64_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    rng.Shuffle(order);
    auto perm = torch::tensor(order, torch::kInt64);
    double sum = 0.0;
    int64_t batches = 0;
    for (int64_t b0 = 0; b0 < n; b0 += cfg.batch_size) {
      auto idx = perm.slice(0, b0, std::min(n, b0 + cfg.batch_size));
      ResponseInput in{
          items.index_select(0, idx).to(device), lengths.index_select(0, idx).to(device),
          users.index_select(0, idx).to(device), actions.index_select(0, idx).to(device)};
      auto y = targets.index_select(0, idx).to(device);
      auto out = model.forward(in);
      torch::Tensor loss;
      if (weights.defined()) {
        const auto w = weights.index_select(0, idx).to(device);
        auto l = cfg.target == ResponseTarget::kClick
                     ? torch::binary_cross_entropy_with_logits(out, y, {}, {}, at::Reduction::None)
                     : torch::mse_loss(out, y, at::Reduction::None);
        loss = (l * w).sum() / w.sum();
      } else {
        loss = cfg.target == ResponseTarget::kClick
                   ? torch::binary_cross_entropy_with_logits(out, y)
                   : torch::mse_loss(out, y);
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      sum += loss.item<double>();
      ++batches;
    }
    last = sum / static_cast<double>(std::max<int64_t>(1, batches));
    if (progress) progress(epoch, last);
    if (stopping) {
      const double val = RowsLoss(model, *validation, cfg, device);
      if (validation_progress) validation_progress(epoch, val);
      if (val < best_loss) {
        best_loss = val;
        since_best = 0;
        best.clear();
        torch::NoGradGuard no_grad;
        for (const auto& p : model.named_parameters()) best[p.key()] = p.value().detach().clone();
      } else if (++since_best >= cfg.early_stopping) {
        break;
      }
    }
  }
  if (stopping && !best.empty()) {
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) p.value().copy_(best.at(p.key()));
  }
  model.eval();
  return last;
}

std::vector<float> PredictRows(const ResponseEnsemble& response, const ResponseRows& rows,
                               torch::Device device, int64_t max_rows) {
  const int64_t n = max_rows >= 0 ? std::min<int64_t>(static_cast<int64_t>(rows.size()), max_rows)
                                  : static_cast<int64_t>(rows.size());
  std::vector<float> pred(static_cast<size_t>(n));
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t b1 = std::min(n, b0 + 4096);
    auto p = response.Expected(RowsInput(rows, b0, b1, device))
                 .to(torch::kCPU, torch::kFloat)
                 .contiguous();
    std::copy(p.data_ptr<float>(), p.data_ptr<float>() + (b1 - b0), pred.begin() + b0);
  }
  return pred;
}

std::vector<float> IpsWeights(const data::Dataset& ds, const data::DataConfig& data,
                              const ResponseRows& rows, int64_t negatives) {
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
    w[r] = static_cast<float>(1.0 / prop.OfDense(ds, static_cast<data::UserId>(rows.users[r]),
                                                 static_cast<data::ItemId>(rows.actions[r])));
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
      val_rows =
          MakeResponseRows(cal_seqs, response_cfg, sim->num_items, sim->state_len, rng, &sampler);
    }
    for (int64_t k = 0; k < response_cfg.ensemble; ++k) {
      Rng rng = role_rng.Fork(static_cast<uint64_t>(k));
      torch::manual_seed(MixSeed(cfg.run.seed, role_stream * 1000 + static_cast<uint64_t>(k)));
      auto model = MakeResponseModel(response_cfg, shape);
      auto rows =
          MakeResponseRows(train_seqs, response_cfg, sim->num_items, sim->state_len, rng, &sampler);
      // IPS corrects the self-selection of the logged ratings; the eval role's random-exposure
      // ratings need none.
      if (response_cfg.ips && role != SimRole::kEval) {
        rows.weights = IpsWeights(ds, cfg.data, rows, response_cfg.negatives);
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
               " held-out sequences: a = " + std::to_string(cal.a) +
               ", b = " + std::to_string(cal.b));
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
    const auto rows =
        LoggedHazardRows(seqs, *sim->response, sim->num_items, sim->state_len, cfg.sim.max_length,
                         hz.session_gap_minutes, sim->item_keys, sim->similarity_threshold,
                         cfg.sim.leave.repetition.window, hz.satisfaction_decay, device);
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
