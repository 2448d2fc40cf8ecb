// Item-to-item co-occurrence similarity (item-based kNN, Sarwar et al. 2001) as a tensor lookup:
// the reference item_knn model of the fidelity reports, and the neighbourhood term a sequential
// response model can add to its learned score (Koren 2008, "Factorization meets the
// neighborhood": a factor model plus explicit item-item weights).
//
//   c(j, a)  how often item a follows item j within the `window` items before it in a logged
//            sequence (each distinct j counted once per position of a)
//   S(j, a) = c(j, a) / sqrt(n_j * n_a), n the item counts of the same sequences (directed)
//   f(h, a) = sum over the distinct real items j of history h of S(j, a)
//
// Storage: the nonzero S(j, a) as sorted keys j * num_items + a ([nnz] int64) and their values
// ([nnz] float), so one lookup is a binary search (torch::searchsorted) on any device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/sequences.h"

namespace recarena::env {

struct CoOccurrence {
  torch::Tensor keys;    // [nnz] int64, strictly increasing, in [0, num_items^2)
  torch::Tensor values;  // [nnz] float, > 0
  int64_t num_items = 0;
};

// Counts over seqs (items in [0, num_items)); window >= 1. CPU tensors.
CoOccurrence BuildCoOccurrence(const std::vector<data::Sequence>& seqs, int64_t num_items,
                               int64_t window);

// Throws recarena::Error naming the fault unless c is as documented above (used on load).
void CheckCoOccurrence(const CoOccurrence& c);

// items [B, L] int64 (ids >= num_items are padding), actions [B] int64, on keys' device ->
// f(h_b, a_b) [B] float.
torch::Tensor NeighbourhoodScore(const CoOccurrence& c, const torch::Tensor& items,
                                 const torch::Tensor& actions);

// items [B, L] -> f(h_b, a) for every item a: [B, num_items] float on keys' device.
torch::Tensor NeighbourhoodScoreAll(const CoOccurrence& c, const torch::Tensor& items);

// Out-of-fold scores for rows drawn from seqs: a row of user u gets f(h, a) under the
// similarities counted on the sequences of the other folds, fold(u) = u mod folds (a user's
// sessions stay together). So a training row's own sequence never contributes to its score, as
// for a held-out user. items [n, L], users [n], actions [n] int64 (CPU) -> [n] float. folds >= 2.
std::vector<float> OutOfFoldScores(const std::vector<data::Sequence>& seqs, int64_t num_items,
                                   int64_t window, int64_t folds, const torch::Tensor& items,
                                   const torch::Tensor& users, const torch::Tensor& actions);

}  // namespace recarena::env
