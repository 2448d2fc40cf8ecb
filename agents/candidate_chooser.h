// A helper policy that picks one of k candidate items for a user's history: thesis Eq. 7.2,
// a ~ LLM[p(s, a^k)]. agents/ sees only this interface; the LLM behind it (llm_bridge/, beside
// agents/) is plugged in by experiments/train/llm_chooser.h, and tests plug in their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recarena::agents {

struct ChoiceQuery {
  int64_t user = -1;                // dense user id when known (-1: not known)
  std::vector<int64_t> history;     // dense item ids, oldest first
  std::vector<int64_t> candidates;  // k dense item ids, in the order they are labelled a, b, ...
};

struct ChoiceResult {
  int64_t position = -1;  // the chosen candidate (0..k-1), -1 when none was chosen
  bool none = false;      // the helper answered "none of them" (else -1 means no usable answer)
};

class CandidateChooser {
 public:
  virtual ~CandidateChooser() = default;
  // One result per query, in order. May block (an LLM call); throws recarena::Error when the
  // helper cannot answer at all.
  virtual std::vector<ChoiceResult> Choose(const std::vector<ChoiceQuery>& queries) = 0;
  // Wall seconds spent inside Choose so far (reported per step by llm_online).
  virtual double seconds() const = 0;
};

}  // namespace recarena::agents
