#include "data/data_config.h"

namespace recarena::data {

void DataConfig::Validate() const {
  if (dataset == DatasetKind::kCsv) csv.Validate();
  if (dataset == DatasetKind::kSynthetic) synthetic.Validate();
  preprocess.Validate("data.preprocess");
  split.Validate("data.split");
  window.Validate("data.window");
  if (perturb.kind != PerturbKind::kNone) perturb.Validate();
}

}  // namespace recarena::data
