// Deterministic, splittable random number generator.
//
// Every random choice in recarena draws from an Rng that was passed in; there is no global RNG. The
// generator is SplitMix64-seeded xoshiro256**, and all distributions below are implemented here
// from raw 64-bit outputs, so a seed gives the same stream on every platform and standard library
// (std:: distributions are implementation-defined and are therefore not used for anything that must
// reproduce).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace recarena {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  // Derives an independent stream from this generator's seed and a stream id, without consuming
  // state from *this. Fork(k) of the same seed is the same stream whenever it is called.
  Rng Fork(uint64_t stream) const;

  uint64_t NextU64();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform integer in [0, n); n must be > 0. Unbiased (rejection sampling).
  uint64_t UniformInt(uint64_t n);
  // Standard normal (Box-Muller, one value per call).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // Gamma(shape, 1) (Marsaglia-Tsang); shape > 0.
  double Gamma(double shape);
  // Index drawn with probability proportional to weights (non-negative, not all zero).
  size_t Categorical(const std::vector<double>& weights);
  bool Bernoulli(double p) { return Uniform() < p; }
  // Fisher-Yates shuffle.
  template <class T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(UniformInt(i));
      std::swap(v[i - 1], v[j]);
    }
  }

  uint64_t seed() const { return seed_; }

  // The full state, for checkpoints.
  std::string SerializeState() const;
  void DeserializeState(const std::string& state);

 private:
  uint64_t seed_;
  std::array<uint64_t, 4> s_{};
};

// Mixes a seed and a stream id into a new 64-bit seed (SplitMix64 finaliser).
uint64_t MixSeed(uint64_t seed, uint64_t stream);

}  // namespace recarena
