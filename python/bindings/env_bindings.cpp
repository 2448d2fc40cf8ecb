#include "python/bindings/env_bindings.h"

#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "env/sim_config.h"
#include "env/simulator.h"
#include "env/vector_env.h"
#include "models/device.h"
#include "python/bindings/dlpack.h"

namespace recarena::python {
namespace py = pybind11;

namespace {

// `device`: "cpu", "cuda", "cuda:N", or "config" (the run.device the simulator was fitted with).
torch::Device ChooseDevice(const std::filesystem::path& dir, const std::string& device) {
  if (device == "config") {
    const auto cfg = config::Load<env::SimFitConfig>(dir / "config.yaml");
    return models::ResolveDevice(cfg.run.device);
  }
  torch::Device d(device);
  if (d.is_cuda() && !models::CudaAvailable()) {
    throw py::value_error("device " + device + ": LibTorch sees no CUDA GPU on this machine");
  }
  return d;
}

// The observation's tensors under `prefix` ("" or "final_").
void PutObservation(py::dict& out, const char* prefix, const env::Observation& o) {
  const std::string p(prefix);
  out[(p + "items").c_str()] = ToCapsule(o.items);
  out[(p + "lengths").c_str()] = ToCapsule(o.lengths);
  out[(p + "users").c_str()] = ToCapsule(o.users);
  out[(p + "step").c_str()] = ToCapsule(o.step);
}

py::dict ToDict(const env::StepResult& r) {
  py::dict out;
  PutObservation(out, "", r.observation);
  // Contiguous: with repeats allowed the C++ mask is a broadcast view of one row, and NumPy would
  // hand out a writable array whose rows share that row.
  out["candidate_mask"] = ToCapsule(r.candidate_mask.contiguous());
  out["reward"] = ToCapsule(r.reward);
  out["accepted"] = ToCapsule(r.accepted);
  out["terminated"] = ToCapsule(r.terminated);
  out["truncated"] = ToCapsule(r.truncated);
  out["episode_id"] = ToCapsule(r.episode_id);
  if (r.info.final_observation.items.defined()) {
    PutObservation(out, "final_", r.info.final_observation);
    out["episode_return"] = ToCapsule(r.info.episode_return);
    out["episode_length"] = ToCapsule(r.info.episode_length);
    out["final_episode_id"] = ToCapsule(r.info.final_episode_id);
  }
  out["expected_reward"] = ToCapsule(r.info.expected_reward);
  return out;
}

// The C++ VectorEnv with the simulator it steps; reset/step release the GIL while LibTorch works.
class PyVectorEnv {
 public:
  PyVectorEnv(const std::string& dir, const std::string& role, int64_t num_envs,
              const std::string& device, bool mask_repeats, bool leave, int64_t max_length) {
    if (num_envs < 1)
      throw py::value_error("num_envs must be >= 1, got " + std::to_string(num_envs));
    if (max_length < 0) {
      throw py::value_error("max_length must be >= 0 (0: the simulator's), got " +
                            std::to_string(max_length));
    }
    env::FittedRoles(dir);  // a clear error when dir is not a fitted simulator
    const torch::Device dev = ChooseDevice(dir, device);
    sim_ = env::LoadSimulator(dir, env::ParseRole(role), dev);
    env::VectorEnvOptions o;
    o.num_envs = num_envs;
    o.mask_repeats = mask_repeats;
    o.leave_enabled = leave;
    o.max_length = max_length;
    o.device = dev;
    env_ = std::make_unique<env::VectorEnv>(sim_, o);
  }

  py::dict Reset(uint64_t seed) {
    env::StepResult r;
    {
      py::gil_scoped_release nogil;
      r = env_->Reset(seed);
    }
    return ToDict(r);
  }

  py::dict Step(const py::object& actions) {
    torch::Tensor a = FromCapsule(actions);
    if (a.dim() != 1 || a.size(0) != env_->num_envs()) {
      throw py::value_error("actions must have shape (" + std::to_string(env_->num_envs()) +
                            ",), got " + std::to_string(a.dim()) + " dimensions");
    }
    env::StepResult r;
    {
      py::gil_scoped_release nogil;
      r = env_->Step(a.to(torch::kInt64));
    }
    return ToDict(r);
  }

  py::object ExpectedRewardsAll() const { return ToCapsule(env_->ExpectedRewardsAll()); }

  // The response models' user feature table [num_users, F] (DeepFM fitted on a dataset with user
  // features, e.g. Coat), or None: the buffer "user_features" of the first model that has one.
  py::object UserFeatures() const {
    for (const auto& model : sim_->response->models()) {
      for (const auto& b : model->named_buffers(/*recurse=*/false)) {
        if (b.key() == "user_features" && b.value().defined() && b.value().numel() > 0) {
          return ToCapsule(b.value());
        }
      }
    }
    return py::none();
  }

  const env::VectorEnv& env() const { return *env_; }
  const env::Simulator& sim() const { return *sim_; }

 private:
  std::shared_ptr<env::Simulator> sim_;
  std::unique_ptr<env::VectorEnv> env_;
};

}  // namespace

void BindEnv(py::module_& m) {
  py::class_<PyVectorEnv>(m, "VectorEnv",
                          "The C++ VectorEnv over a fitted simulator (env/vector_env.h); use "
                          "recarena.make / recarena.make_env for the Gymnasium interfaces.")
      .def(py::init<const std::string&, const std::string&, int64_t, const std::string&, bool, bool,
                    int64_t>(),
           py::arg("sim_dir"), py::arg("role"), py::arg("num_envs"), py::arg("device"),
           py::arg("mask_repeats"), py::arg("leave"), py::arg("max_length"))
      .def("reset", &PyVectorEnv::Reset, py::arg("seed"))
      .def("step", &PyVectorEnv::Step, py::arg("actions"))
      .def("expected_rewards_all", &PyVectorEnv::ExpectedRewardsAll)
      .def("user_features", &PyVectorEnv::UserFeatures)
      .def_property_readonly("num_envs", [](const PyVectorEnv& e) { return e.env().num_envs(); })
      .def_property_readonly("num_items", [](const PyVectorEnv& e) { return e.env().num_items(); })
      .def_property_readonly("num_users", [](const PyVectorEnv& e) { return e.sim().num_users; })
      .def_property_readonly("state_len", [](const PyVectorEnv& e) { return e.env().state_len(); })
      .def_property_readonly("max_length",
                             [](const PyVectorEnv& e) { return e.env().max_length(); })
      .def_property_readonly("reward_min",
                             [](const PyVectorEnv& e) { return e.env().reward_min(); })
      .def_property_readonly("reward_max",
                             [](const PyVectorEnv& e) { return e.env().reward_max(); })
      .def_property_readonly("device", [](const PyVectorEnv& e) { return e.env().device().str(); })
      .def_property_readonly("role",
                             [](const PyVectorEnv& e) { return env::RoleName(e.sim().role); })
      .def_property_readonly(
          "num_starts",
          [](const PyVectorEnv& e) { return static_cast<int64_t>(e.sim().starts.size()); })
      .def_property_readonly("num_parameters",
                             [](const PyVectorEnv& e) {
                               int64_t n = 0;
                               for (const auto& m : e.sim().response->models()) {
                                 for (const auto& p : m->parameters()) n += p.numel();
                               }
                               return n;
                             })
      .def_property_readonly("logged_item_counts",
                             [](const PyVectorEnv& e) { return e.sim().logged_item_counts; });
}

}  // namespace recarena::python
