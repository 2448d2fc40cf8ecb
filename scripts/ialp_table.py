#!/usr/bin/env python3
"""docs/results/ialp.md from the outputs of scripts/ialp_results.sh (run from the repository root).

Reads runs/ialp/distill-<teacher>/seed-N/distill.json (the distillation: parse and pick rates,
position bias, LLM latency) and runs/ialp/online-<teacher>/results.csv (every evaluation of every
online cell, in the ground-truth eval simulator). Intervals are 95% Student-t intervals over the
seeds; "vs" columns are paired over seeds (the same seed's cells share the simulator's episode
seeds), with the t-interval of the mean difference: a comparison is called only when that
interval excludes 0. Copies the experiments' learning-curve plots to docs/results/img/.
"""
import csv
import datetime
import glob
import json
import math
import os
import shutil

from table_stats import fmt, mean_ci  # scripts/table_stats.py

ROOT = "runs/ialp"
IMG = "docs/results/img"
TEACHERS = [("llm", "SmolLM2-135M (LLM)"), ("oracle", "oracle, same budget"),
            ("oracle-large", "oracle, 20x budget")]
AGENT_NAMES = {"synthetic-random": "Random", "lastfm-2k-random": "Random",
               "lastfm-2k-dqn": "DQN", "lastfm-2k-pg": "PG",
               "a2c-thesis": "A2C (thesis, from scratch)", "ialp": "iALP (frozen)",
               "ialp-ft": "A-iALP_ft", "ialp-ap": "A-iALP_ap", "llm-online": "LLMOnline"}


def read_results(path, by_exploration=False):
    """{agent: {seed: {"first": row, "last": row, "all": rows}}} from an experiment's results.csv
    (keyed by (agent, exploration) with by_exploration)."""
    out = {}
    if not os.path.exists(path):
        return out
    for row in csv.DictReader(open(path)):
        a, s, step = row["agent"], int(row["seed"]), int(row["step"])
        if by_exploration:
            a = (a, row["exploration"])
        cell = out.setdefault(a, {}).setdefault(s, {})
        cell.setdefault("all", []).append(row)
        if "first" not in cell or step < int(cell["first"]["step"]):
            cell["first"] = row
        if "last" not in cell or step > int(cell["last"]["step"]):
            cell["last"] = row
    return out


def paired(a, b, key, when="last"):
    """Mean and CI half-width of a[seed] - b[seed] over the seeds both have."""
    seeds = sorted(set(a) & set(b))
    d = [float(a[s][when][key]) - float(b[s][when][key]) for s in seeds]
    return mean_ci(d) + (len(d),)


def verdict(m, h):
    if math.isnan(h):
        return "n/a"
    if m - h > 0:
        return "**better**"
    if m + h < 0:
        return "**worse**"
    return "no difference"


def distill_section():
    out = ["## The distillation (`recarena llm distill`, thesis Alg. 5)\n",
           "Per seed: 3 iterations x 8 episodes x 4 steps = 96 preference queries, k = 10 "
           "candidates sampled from the actor's policy, 16 minibatch updates of 32 per step "
           "(`configs/llm/distill-synthetic.yaml`); the oracle x20 runs 60 iterations (1,920 "
           "queries). The thesis distils ~50k preferences of a LoRA-tuned Mistral-7B over 100 "
           "epochs: this budget is about 500x smaller, sized for 1-3 s per answer of a 135M model "
           "on 2 CPU cores. Rates are shares of all queries; 'a share' is the share of picks that "
           "chose the first candidate (position bias; 0.1 without bias). Seconds per query are "
           "wall times of runs that shared the 2 cores with other jobs (alone: 1.2-2.6 s, "
           "docs/llm.md).\n",
           "| teacher | seeds | queries | parse rate | pick rate (r^p = 1) | none rate | a share | "
           "s per query |", "|---|---|---|---|---|---|---|---|"]
    sources = [(f"synthetic, {name}", f"distill-{t}") for t, name in TEACHERS]
    for ds, title in (("lastfm-2k", "Last.fm-2K"), ("coat", "Coat"),
                      ("amazon-industrial", "amazon-industrial")):
        sources.append((f"{title}, SmolLM2-135M (LLM)", os.path.join(ds, "distill-llm")))
    for name, sub in sources:
        runs = sorted(glob.glob(os.path.join(ROOT, sub, "seed-*", "distill.json")))
        js = [json.load(open(p)) for p in runs]
        if not js:
            out.append(f"| {name} | 0 | (missing) |||||")
            continue
        ch = [j["chooser"] for j in js]
        share_a = [c["position_share"][0] if c["position_share"] else 0.0 for c in ch]
        cols = [mean_ci([c[k] for c in ch]) for k in ("parse_rate", "pick_rate", "none_rate")]
        spq = mean_ci([c["seconds_per_query"] for c in ch])
        out.append(f"| {name} | {len(js)} | {js[0]['transitions']} | " +
                   " | ".join(fmt(m, h) for m, h in cols) +
                   f" | {fmt(*mean_ci(share_a))} | {fmt(*spq)} |")
    llm = sorted(glob.glob(os.path.join(ROOT, "distill-llm", "seed-*", "distill.json")))
    if llm:
        j = json.load(open(llm[0]))
        kinds = j["chooser"]["kinds"]
        out.append(f"\nSeed 1's LLM answers by kind: {json.dumps(kinds)}; positions picked (a, b, "
                   f"...): {j['chooser']['positions']}. The raw answers are in "
                   "runs/ialp/distill-llm/seed-N/d_llm.jsonl.\n")
    return "\n".join(out) + "\n"


def row_cells(label, teacher, cells):
    def col(key, when="last"):
        return fmt(*mean_ci([float(c[when][key]) for c in cells.values() if when in c]))
    def at(step):
        xs = [float(r["return"]) for c in cells.values() for r in c.get("all", []) if int(r["step"]) == step]
        return fmt(*mean_ci(xs))
    return (f"| {label} | {teacher} | {col('return', 'first')} | {at(EPOCH)} | {col('return')} | "
            f"{col('length')} | {col('avg_reward')} |")


EPOCH = 500  # steps_per_epoch of the iALP experiments: R@1 is the evaluation after one epoch


def online_table(rows, refs):
    """rows: (label, teacher, cells); refs: (name, cells) for the paired columns."""
    out = ["| agent | warm start | R@0 | R@1 | Return | Length | R_avg |",
           "|---|---|---|---|---|---|---|"]
    out += [row_cells(*r) for r in rows]
    out.append("\nPaired over seeds (final Return, mean difference ± 95% t-interval):\n")
    out.append("| agent | warm start | " + " | ".join(f"vs {n}" for n, _ in refs) + " |")
    out.append("|---|---|" + "---|" * len(refs))
    for label, teacher, cells in rows:
        cols = []
        for _, ref in refs:
            if not ref or cells is ref:
                cols.append("-")
                continue
            m, h, n = paired(cells, ref, "return")
            cols.append(f"{m:+.3f} ± {h:.3f} ({verdict(m, h)}, n={n})")
        out.append(f"| {label} | {teacher} | " + " | ".join(cols) + " |")
    return "\n".join(out) + "\n"


def synthetic_section():
    res = {t: read_results(os.path.join(ROOT, f"online-{t}", "results.csv")) for t, _ in TEACHERS}
    base = res["llm"]
    rows = [(AGENT_NAMES[a], "-", base[a]) for a in ("synthetic-random", "a2c-thesis") if a in base]
    for t, name in TEACHERS:
        rows += [(AGENT_NAMES[a], name, res[t][a]) for a in ("ialp", "ialp-ft", "ialp-ap")
                 if a in res[t]]
    refs = [("random", base.get("synthetic-random", {})),
            ("A2C from scratch", base.get("a2c-thesis", {}))]
    return ("## Synthetic world, in the ground truth (thesis Tables 7.3-7.5 layout)\n\n"
            "Each agent trains 2,000 steps x 16 users (4 epochs of 500) in the learned train "
            "simulator (`configs/online/*.yaml`, categorical exploration) and is evaluated greedily "
            "on 200 episodes of the ground-truth eval simulator (the world's true click model and "
            "patience). R@0 is the evaluation before any online step (the warm start alone), R@1 "
            "after one epoch; Return = clicks per episode, Length = steps, R_avg = Return / Length. "
            "Mean ± 95% t-interval over 5 seeds. The thesis trains 50k online steps: this budget "
            "is 25x smaller.\n\n" + online_table(rows, refs))


REAL = {
    "lastfm-2k": ("Last.fm-2K", "`configs/sim/lastfm-2k.yaml` (80/20 users): trained 2,000 steps x "
                  "16 users in the train role, evaluated greedily on 200 episodes of the test role "
                  "(unseen users)"),
    "coat": ("Coat", "`configs/sim/coat.yaml` (80/20 users, DeepFM rating model, reward = predicted "
             "rating 1-5): trained 2,000 steps x 16 users in the train role, evaluated greedily on "
             "200 episodes of the eval role fitted on Coat's random-exposure ratings (free of "
             "selection bias)"),
    "amazon-industrial": ("amazon-industrial (the thesis's Industry)",
                          "`configs/sim/amazon-industrial.yaml` (80/20 users, SASRec click model "
                          "with the history bag, reward = click probability): trained 2,000 steps "
                          "x 16 users in the train role, evaluated greedily on 200 episodes of the "
                          "test role (unseen users); the LLM is shown the items' titles"),
}


def real_section(ds):
    title, setup = REAL[ds]
    res = read_results(os.path.join(ROOT, f"online-{ds}", "results.csv"))
    if not res:
        return f"## {title}\n\n(missing: runs/ialp/online-{ds}/results.csv)\n"
    order = (f"{ds}-random", f"{ds}-dqn", f"{ds}-pg", "a2c-thesis", "ialp", "ialp-ft", "ialp-ap")
    names = dict(AGENT_NAMES, **{f"{ds}-random": "Random", f"{ds}-dqn": "DQN", f"{ds}-pg": "PG"})
    rows = [(names[a], "LLM" if a.startswith("ialp") else "-", res[a]) for a in order if a in res]
    refs = [("random", res.get(f"{ds}-random", {})), ("A2C from scratch", res.get("a2c-thesis", {}))]
    text = (f"## {title} simulator (thesis Sec. 7.6, Tables 7.3-7.5 layout)\n\n{setup}; the iALP "
            "agents start from that seed's LLM distillation over the same simulator "
            f"(`configs/llm/distill-{ds}.yaml`, 96 preferences). DQN uses its epsilon-greedy "
            "schedule, the others categorical exploration. Mean ± 95% t-interval over 5 seeds.\n\n")
    text += online_table(rows, refs)
    if ds != "lastfm-2k":
        return text
    ex = read_results(os.path.join(ROOT, "exploration-lastfm-2k", "results.csv"), by_exploration=True)
    # The categorical cells are the main experiment's (same configs, seeds and overrides).
    for a in ("a2c-thesis", "ialp-ft", "ialp-ap"):
        if a in res:
            ex[(a, "categorical")] = res[a]
    if ex:
        text += ("\n### Exploration strategies (thesis Figs. 7.10-7.11)\n\n"
                 "`configs/experiments/ialp-lastfm-2k-exploration.yaml`: final test Return, mean ± "
                 "95% t-interval over 5 seeds.\n\n| agent | greedy | epsilon_greedy | categorical |\n"
                 "|---|---|---|---|\n")
        for a in ("a2c-thesis", "ialp-ft", "ialp-ap"):
            cols = []
            for e in ("greedy", "epsilon_greedy", "categorical"):
                cells = ex.get((a, e), {})
                cols.append(fmt(*mean_ci([float(c["last"]["return"]) for c in cells.values()])))
            text += f"| {AGENT_NAMES[a]} | " + " | ".join(cols) + " |\n"
    return text


def llm_online_section():
    res = read_results(os.path.join(ROOT, "online-llm-online", "results.csv"))
    if not res:
        return ""
    rows = [(AGENT_NAMES[a], "-", res[a]) for a in ("a2c-thesis", "llm-online") if a in res]
    secs, picks = [], []
    for p in glob.glob(os.path.join(ROOT, "online-llm-online", "**", "llm-online", "**",
                                    "metrics.jsonl"), recursive=True):
        for line in open(p):
            tm = json.loads(line).get("train_metrics", {})
            if "llm_s_per_step" in tm:
                secs.append(tm["llm_s_per_step"])
                picks.append(tm["llm_pick_rate"])
    cost = ""
    if secs:
        cost = (f" The LLM's wall time per training step (4 users; means of the evaluation "
                f"segments): {fmt(*mean_ci(secs), 2)} s, against milliseconds for a step of the "
                f"A2C alone; the LLM picked a candidate in {fmt(*mean_ci(picks), 2)} of the queries.")
    return ("## LLMOnline (thesis Sec. 7.6.3), synthetic world\n\n"
            "`configs/experiments/ialp-synthetic-llm-online.yaml`: 10 training steps x 4 users, "
            "evaluations at steps 0, 5, 10 greedy without the LLM, in the ground truth; the same "
            "A2C without the LLM at the same budget. R@1 here is not defined (no step 500): '-'."
            + cost + "\n\n" + online_table(rows, [("A2C from scratch", res.get("a2c-thesis", {}))]))


def plots():
    os.makedirs(IMG, exist_ok=True)
    lines = []
    for d in sorted(glob.glob(os.path.join(ROOT, "online-*")) + glob.glob(os.path.join(ROOT, "exploration-*"))):
        for png in sorted(glob.glob(os.path.join(d, "*.png"))):
            dst = f"ialp_{os.path.basename(d)}_{os.path.basename(png)}"
            shutil.copy(png, os.path.join(IMG, dst))
            lines.append(f"![{os.path.basename(d)}: {os.path.basename(png)}](img/{dst})")
    return ("## Learning curves (Figs. 7.6-7.9 layout)\n\n" + "\n\n".join(lines) + "\n") if lines else ""


def main():
    print("# iALP, A-iALP_ft, A-iALP_ap and LLMOnline (thesis Ch. 7)\n")
    print(f"Produced by `scripts/ialp_results.sh` on {datetime.date.today()} ({os.cpu_count()} CPU "
          "cores) from a clean `runs/ialp`. The LLM is the local SmolLM2-135M-Instruct on llama.cpp "
          "(`scripts/llm_server.sh`); the control is the oracle teacher served over the same HTTP "
          "interface (`recarena llm oracle-server`: the synthetic world's true click model, "
          "labelled oracle, never LLM). Choices and definitions: docs/llm.md. Readings: "
          "docs/results/ialp_notes.md.\n")
    print(distill_section())
    print(synthetic_section())
    print(real_section("lastfm-2k"))
    print(real_section("coat"))
    print(real_section("amazon-industrial"))
    print(llm_online_section())
    print(plots())


if __name__ == "__main__":
    main()
