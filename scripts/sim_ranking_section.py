"""Prints the policy-ranking section of one simulator's fidelity report (docs/results/simulator.md).

    sim_ranking_section.py SIM_DIR RANKING_OUT TAG DOC

SIM_DIR is a fitted simulator (`recarena sim fit --out SIM_DIR`); RANKING_OUT the OUT of a
scripts/ranking_results.sh run whose variant TAG (fitted into RANKING_OUT/sim/TAG) is meant to be
the same simulator; DOC the results file that run wrote. The tau is printed only when the two
fits' resolved configs are the same (apart from run.name and run.log_level), so a number measured
on another config is never shown under this one; otherwise the section says so.
"""
import json
import sys
from pathlib import Path


def resolved_config(sim_dir: Path) -> list[str]:
    """The fit's resolved config.yaml without run.name and run.log_level (lines that do not change
    what is fitted)."""
    lines = (sim_dir / "config.yaml").read_text().splitlines()
    out, in_run = [], False
    for line in lines:
        if not line.startswith(" "):
            in_run = line.startswith("run:")
        if in_run and (line.startswith("  name:") or line.startswith("  log_level:")):
            continue
        out.append(line)
    return out


def main() -> int:
    sim_dir, ranking_out, tag, doc = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    print("### Policy ranking against the truth")
    print()
    ranking = ranking_out / "experiment" / "ranking.json"
    variant = ranking_out / "sim" / tag
    for need in (ranking, variant / "config.yaml"):
        if not need.is_file():
            print(f"Not measured for this fit: no {need} "
                  f"(run scripts/ranking_results.sh; {doc}).")
            return 0
    if resolved_config(variant) != resolved_config(sim_dir):
        print(f"Not measured for this fit: the ranking run's variant `{tag}` ({variant}) was "
              "fitted with another config.")
        return 0
    rows = [s for s in json.loads(ranking.read_text())["simulators"] if s["simulator"] == tag]
    if not rows:
        print(f"Not measured for this fit: {ranking} has no variant `{tag}`.")
        return 0
    s = rows[0]
    lo, hi = s["tau_ci95"]
    above = ", ".join(s["above_baselines"]) or "none"
    print(f"Kendall's tau between this config's learned test role and the ground truth over "
          f"{len(s['policies'])} policies: **{s['tau']:.3f} [{lo:.3f}, {hi:.3f}]** (95% bootstrap "
          f"interval; target >= 0.7). Learned policies above random and most-popular in the truth "
          f"with non-overlapping intervals: {above}. From the variant `{tag}` of {doc} "
          f"(scripts/ranking_results.sh), whose fit has this config.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
