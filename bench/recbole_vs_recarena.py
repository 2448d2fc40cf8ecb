"""recarena vs RecBole 1.2.1 (PyPI `recbole`, RUCAIBox): offline training of SASRec and GRU4Rec on
MovieLens-100K with RecBole's full-ranking leave-one-out protocol, side by side on this machine
(issue 21).

    bash bench/run_recbole.sh [--models sasrec,gru4rec] [--epochs 10] [--threads 2] [--rounds 1]
                              [--recbole-sizes defaults|recarena] [--recbole-anomaly as-shipped|off]

What is measured, per model and side (each side a child process of this script, one after the
other, never two at once; the side that goes first alternates from model to model and round to
round):
- seconds per training epoch: the median over epochs of the wall time of one epoch cycle, i.e.
  one pass over the 97,171 training samples (48 batches of 2,048), the validation of the 943
  validation users that follows it, and the checkpoint writes. recarena: from the arrival times of
  its log lines (stderr is read line by line as it is written; each validation logs one line, and
  epoch 1 starts at the "windows train ..." line, before the model is built); RecBole: from a
  callback_fn passed to Trainer.fit (called after each epoch's validation and checkpoint), epoch 1
  starting when fit() is called. RecBole's own training-only time (its `_train_epoch`, timed by a
  subclass of its Trainer that only adds a clock) is shown as well; the ratio uses the cycles;
- peak resident memory (MB) of the child process, from os.wait4's rusage (ru_maxrss): the whole
  program, including data loading and the final test evaluation;
- NDCG@10 and HR@10 (RecBole's "hit@10") of the 943 test users at the end, with the parameters of
  the epoch with the best validation NDCG@10 (both sides keep that checkpoint and test it), ranking
  the full catalog without masking already seen items (RecBole masks nothing but its padding id
  for sequential models; recarena masks nothing);
- ratio = RecBole s/epoch / recarena s/epoch (> 1: recarena faster). The issue's goal is >= 2 at
  equal or better NDCG@10; this program only measures.

Same data and split: both read /work/shared/data/ml-100k/u.data (the --data folder). recarena loads
it with its own ml-100k loader; for RecBole this program writes it as an atomic file
SCRATCH/dataset/ml-100k/ml-100k.inter (user, item, rating, timestamp), sorted by (user, timestamp,
line order), which is recarena's order; RecBole's sorts are stable, so ties keep it. Both use all
100,000 ratings, sequences per user, the last item of each user for test, the one before for
validation, and every earlier position with at least one item before it as a training target, with
the last <= 50 items as the input (RecBole's data augmentation, recarena's windows). The program
checks that both sides count 97,171 / 943 / 943 samples.

Same sizes and budget: RecBole runs its own SASRec / GRU4Rec defaults (properties/model/*.yaml,
listed in RECBOLE_MODEL; with --recbole-sizes recarena, RECBOLE_AS_RECARENA changes the keys that
recarena cannot follow: SASRec inner_size 64 with ReLU, GRU4Rec hidden_size 64) with its overall
defaults (train_batch_size 2048, Adam lr 1e-3, CE loss, MAX_ITEM_LIST_LENGTH 50, eval_batch_size
4096) and these settings: device cpu; epochs and seed
from the flags; eval_args split LS valid_and_test, order TO, full ranking; metrics NDCG and Hit at
10; valid_metric NDCG@10 (its default is MRR@10; recarena selects on NDCG@10);
train_neg_sample_args None (required for the CE loss); stopping_step above the epoch count, as is
recarena's patience, so that both train exactly --epochs epochs; show_progress off. recarena runs
configs/offline/ml-100k-{sasrec,gru4rec}.yaml with train.threads, run.seed, train.max_epochs,
train.max_steps (= epochs x 48) and train.patience overridden. Both get --threads intra-op threads
(torch.set_num_threads / train.threads, and OMP_NUM_THREADS / MKL_NUM_THREADS in their
environment). PROTOCOL_DIFFERENCES below lists what could not be made equal; it is printed with the
results.

How RecBole is run, and the runtime fixes it needs (nothing is copied from it, its installed files
are not edited):
- `import recbole` runs recbole/__init__.py, which imports recbole.quick_start and with it
  `from ray import tune` (ray <= 2.6.3, hyper-parameter tuning only). The RecBole child registers
  the `recbole` package folder without running that __init__ and imports the submodules it uses
  (config, data, model.sequential_recommender, trainer, utils), then does what
  quick_start.run_recbole does: Config, init_seed, init_logger, create_dataset, data_preparation,
  init_seed, the model, get_trainer(...)(config, model), fit(saved=True), evaluate(
  load_best_model=True). It leaves out run_recbole's get_flops (thop; a FLOP count for the log) and
  get_environment (psutil; a usage table for the log), which do not take part in training.
- numpy 2 removed np.float_, np.complex_ and np.unicode_, which RecBole's Config reads in its
  compatibility_settings() (to define np.float, np.int, ... for its own code); the child defines
  the three names as np.float64, np.complex128 and np.str_ before importing RecBole.
- torch >= 2.6 loads checkpoints with weights_only=True by default; RecBole's checkpoint holds its
  Config object, so evaluate(load_best_model=True) fails. The child runs with
  TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 in its environment, torch's own switch for call sites that
  do not pass weights_only (the checkpoint is the one it just wrote).
- Importing any RecBole sequential model runs recbole/model/sequential_recommender/__init__.py,
  which imports every sequential model, among them sine.py, whose module level calls
  torch.autograd.set_detect_anomaly(True): every RecBole sequential model trains with autograd's
  anomaly mode on (a stack trace recorded per autograd node in forward, NaN checks in backward).
  That is what RecBole's users get, so it stays on by default; --recbole-anomaly off turns it off
  again after the imports, to show how much of RecBole's time it costs. The JSON lines and the
  table say which was measured.
- RecBole's utils import torch.utils.tensorboard at module level and its Trainer writes
  TensorBoard events every epoch, so tensorboard, protobuf and absl-py are installed (exact
  versions in requirements-bench.txt) and RecBole writes its events as usual.
"""

import argparse
import collections
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import threading
import time

MODELS = {"sasrec": "SASRec", "gru4rec": "GRU4Rec"}
BATCH = 2048        # RecBole's train_batch_size default; configs/offline/ml-100k-*.yaml
MAX_LEN = 50        # RecBole's MAX_ITEM_LIST_LENGTH default (properties/dataset/ml-100k.yaml)

# RecBole 1.2.1's model defaults (recbole/properties/model/{SASRec,GRU4Rec}.yaml), passed again
# explicitly so that the run does not depend on those files staying as they are.
RECBOLE_MODEL = {
    "sasrec": {"n_layers": 2, "n_heads": 2, "hidden_size": 64, "inner_size": 256,
               "hidden_dropout_prob": 0.5, "attn_dropout_prob": 0.5, "hidden_act": "gelu",
               "layer_norm_eps": 1e-12, "initializer_range": 0.02, "loss_type": "CE"},
    "gru4rec": {"embedding_size": 64, "hidden_size": 128, "num_layers": 1, "dropout_prob": 0.3,
                "loss_type": "CE"},
}

# --recbole-sizes recarena: RecBole's own keys set to recarena's fixed shapes, for a second, closer
# comparison of the same work (recarena's SASRec FFN is hidden wide with ReLU, its GRU4Rec GRU is
# as wide as the embedding). What stays different is in PROTOCOL_DIFFERENCES.
RECBOLE_AS_RECARENA = {
    "sasrec": {"inner_size": 64, "hidden_act": "relu"},
    "gru4rec": {"hidden_size": 64},
}

PROTOCOL_DIFFERENCES = [
    "SASRec block: recarena's is Kang & McAuley's reference block (pre-LN: LayerNorm before the "
    "attention queries and before the FFN, ReLU FFN of width = hidden = 64, a final LayerNorm, eps "
    "1e-8, no LayerNorm on the input embeddings); RecBole's is BERT's (post-LN after each "
    "residual, "
    "GELU FFN of inner_size 256, LayerNorm + dropout on the input embeddings, eps 1e-12). recarena "
    "has no config key for the FFN width, its activation or the LayerNorm placement, so with "
    "RecBole's defaults its FFN does 4x the work per position (2 x 64 x 256 vs 2 x 64 x 64 "
    "multiply-adds per layer); --recbole-sizes recarena sets RecBole's inner_size 64 and ReLU, "
    "leaving the LayerNorm placement and eps.",
    "GRU4Rec: recarena's encoder has one width for the item embedding and the GRU (hidden 64 = "
    "RecBole's embedding_size); RecBole's default GRU is 128 wide, followed by a dense 128 -> 64 "
    "layer. recarena has no key for a separate GRU width or the dense layer; --recbole-sizes "
    "recarena sets RecBole's GRU to 64, leaving its dense 64 -> 64 layer.",
    "Output layer: RecBole scores with its input item-embedding table (tied weights, 1,683 rows: "
    "the padding id 0 takes part in the training softmax and is set to -inf at evaluation); "
    "recarena has a separate Linear(64, 1,682) with bias over the real items (no key to tie them). "
    "The parameter counts are printed.",
    "Initialisation: RecBole N(0, 0.02) for SASRec's linear and embedding weights, Xavier for "
    "GRU4Rec's embedding and GRU weights; recarena item embeddings N(0, 0.01), SASRec positions "
    "N(0, 0.01), LibTorch's defaults elsewhere (Kaiming-uniform linear layers, uniform GRU).",
    "Randomness: the same seed number on both sides, but different generators, so initial weights, "
    "the per-epoch shuffles and the dropout masks differ; one seed is one draw.",
    "The epoch cycle includes each side's checkpoint writes: recarena writes last.pt every epoch "
    "and best.pt on improvement; RecBole writes one file (model, optimizer, config) on "
    "improvement, plus its TensorBoard events and log lines.",
    "Ties in the ranking: recarena ranks tied scores by the smaller item id; RecBole uses "
    "torch.topk (order of ties unspecified). With float scores ties are rare.",
    "RecBole as shipped trains every sequential model with autograd's anomaly mode on (its "
    "sine.py calls torch.autograd.set_detect_anomaly(True) when the sequential models are "
    "imported); recarena never uses it. --recbole-anomaly off measures RecBole without it.",
    "Start-up: recarena's epoch 1 clock starts before its model is built, RecBole's when fit() is "
    "called (after its model and Trainer exist); the median over epochs hides this once there "
    "are 3 or more epochs.",
]


def _timed_child(cmd, env, cwd):
    """Runs cmd; returns (wall s, peak RSS MB, stdout, [(t, stderr line)]). Stderr lines are
    timestamped with time.perf_counter() as they arrive; stdout is read by a thread."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out = []
    reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
    reader.start()
    lines = []
    for raw in p.stderr:
        lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip("\n")))
    reader.join()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        tail = "\n".join(line for _, line in lines[-60:])
        sys.exit(f"{' '.join(map(str, cmd))} failed (exit {os.waitstatus_to_exitcode(status)}):\n"
                 f"{tail}")
    return wall, ru.ru_maxrss / 1024.0, out[0].decode(errors="replace"), lines


def _write_inter(u_data: pathlib.Path, d: pathlib.Path):
    """u.data -> d/ml-100k/ml-100k.inter (RecBole's atomic format), sorted like recarena's
    preprocessing (user, timestamp, line order; a stable sort). Returns the sample counts the
    leave-one-out protocol gives (train / valid / test) and the catalog size."""
    rows = []
    with open(u_data, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            u, it, r, ts = line.split("\t")
            rows.append((int(u), int(ts), i, it, r))
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    out = d / "ml-100k"
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "ml-100k.inter.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("user_id:token\titem_id:token\trating:float\ttimestamp:float\n")
        for u, ts, _, it, r in rows:
            f.write(f"{u}\t{it}\t{r}\t{ts}\n")
    tmp.replace(out / "ml-100k.inter")
    per_user = collections.Counter(x[0] for x in rows)
    train = sum(n - 3 for n in per_user.values() if n >= 3)
    evaluated = sum(1 for n in per_user.values() if n >= 3)
    return {"interactions": len(rows), "users": len(per_user),
            "items": len({x[3] for x in rows}), "train": train, "valid": evaluated,
            "test": evaluated}


def _run_recarena(args, model, rnd, expect, scratch):
    out = scratch / "runs" / f"recarena-{model}-r{rnd}"
    shutil.rmtree(out, ignore_errors=True)  # a run directory would resume, not retrain
    steps = -(-expect["train"] // BATCH)
    config = args.root / f"configs/offline/ml-100k-{model}.yaml"
    cmd = [args.recarena, "train", "--config", str(config),
           "--out", str(out), f"data.source={args.data}", f"run.seed={args.seed}",
           f"train.threads={args.threads}", f"train.eval_every={steps}",
           f"train.max_epochs={args.epochs}", f"train.max_steps={args.epochs * steps}",
           f"train.patience={args.epochs + 1}", f"train.batch_size={BATCH}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    wall, peak, _, lines = _timed_child(cmd, env, str(args.root))
    start, ends, counts = None, [], None
    for t, line in lines:
        if " windows train " in line and start is None:
            start = t
            w = line.split(" windows train ")[1].replace("/", " ").split()
            counts = {"train": int(w[0]), "valid": int(w[2]), "test": int(w[4])}
        elif " valid NDCG@10 " in line:
            ends.append(t)
    if start is None or len(ends) != args.epochs:
        sys.exit(f"recarena {model}: expected a 'windows train' line and {args.epochs} validation "
                 f"lines in its log, got {'one' if start else 'no'} and {len(ends)}:\n"
                 + "\n".join(line for _, line in lines[-40:]))
    epochs = [b - a for a, b in zip([start] + ends[:-1], ends)]
    metrics = json.loads((out / "metrics.json").read_text())
    history = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]
    valid = [h.get("valid_NDCG@10") for h in history]
    best = max(range(len(valid)), key=lambda i: (valid[i], -i)) + 1 if valid else None
    return {"side": "recarena", "model": model, "round": rnd, "epoch_s": epochs,
            "train_only_s": None, "peak_mb": peak, "wall_s": wall,
            "ndcg10": metrics["NDCG@10"], "hr10": metrics["HR@10"],
            "best_epoch": best, "params": _recarena_params(out / "best.pt"), "samples": counts,
            "valid_ndcg10": valid}


def _recarena_params(path):
    """Trainable parameters in a recarena checkpoint (a sealed LibTorch archive, which torch.jit
    can read once the one-line seal header is cut off): the tensors named encoder.* and head.*
    (the rest are the optimizer's state and the loop's counters). None when the archive cannot be
    read that way: the count is informative only."""
    try:
        import io
        import torch
        data = path.read_bytes()
        if data.startswith(b"RECARENA-SEALED "):
            data = data[data.index(b"\n") + 1:]
        m = torch.jit.load(io.BytesIO(data), map_location="cpu")
        n = sum(p.numel() for name, p in m.named_parameters()
                if name.startswith(("encoder.", "head.")))
        return n or None
    except Exception:  # noqa: BLE001 - informative only
        return None


def _run_recbole(args, model, rnd, scratch):
    work = scratch / "recbole" / f"{model}-r{rnd}"  # RecBole writes log/, log_tensorboard/, saved/
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--recbole-child", model,
           "--epochs", str(args.epochs), "--threads", str(args.threads), "--seed", str(args.seed),
           "--dir", str(scratch), "--recbole-sizes", args.recbole_sizes,
           "--recbole-anomaly", args.recbole_anomaly]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    wall, peak, out, lines = _timed_child(cmd, env, str(work))
    res = [x for x in out.splitlines() if x.startswith("RESULT ")]
    if not res:
        sys.exit(f"RecBole {model}: no RESULT line; stderr tail:\n"
                 + "\n".join(line for _, line in lines[-40:]))
    r = json.loads(res[-1][len("RESULT "):])
    r.update({"side": "RecBole", "model": model, "round": rnd, "peak_mb": peak, "wall_s": wall})
    return r


def _recbole_child(args):
    """Runs in the child: RecBole's training of one model, printing one RESULT JSON line."""
    import importlib.util
    import types

    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    for name, value in (("float_", np.float64), ("complex_", np.complex128),
                        ("unicode_", np.str_)):
        if not hasattr(np, name):  # removed in numpy 2; RecBole's Config reads them
            setattr(np, name, value)
    spec = importlib.util.find_spec("recbole")
    if spec is None:
        sys.exit("recbole_vs_recarena: recbole is not installed; see bench/run_recbole.sh")
    pkg = types.ModuleType("recbole")  # without recbole/__init__.py (it imports ray)
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["recbole"] = pkg
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.sequential_recommender.gru4rec import GRU4Rec
    from recbole.model.sequential_recommender.sasrec import SASRec
    from recbole.utils import get_trainer, init_logger, init_seed
    anomaly_as_shipped = torch.is_anomaly_enabled()  # True: set by sine.py (see the docstring)
    if args.recbole_anomaly == "off":
        torch.autograd.set_detect_anomaly(False)

    model_cls = {"sasrec": SASRec, "gru4rec": GRU4Rec}[args.recbole_child]
    scratch = pathlib.Path(args.dir)
    cfg = {
        "data_path": str(scratch / "dataset"), "checkpoint_dir": str(pathlib.Path.cwd() / "saved"),
        "use_gpu": False, "device": "cpu", "seed": args.seed, "reproducibility": True,
        "epochs": args.epochs, "stopping_step": args.epochs + 1, "eval_step": 1,
        "train_batch_size": BATCH, "learning_rate": 0.001, "MAX_ITEM_LIST_LENGTH": MAX_LEN,
        "train_neg_sample_args": None,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "group_by": "user",
                      "mode": "full"},
        "metrics": ["NDCG", "Hit"], "topk": [10], "valid_metric": "NDCG@10",
        "show_progress": False, "worker": 0,
        **RECBOLE_MODEL[args.recbole_child],
        **(RECBOLE_AS_RECARENA[args.recbole_child] if args.recbole_sizes == "recarena" else {}),
    }
    config = Config(model=model_cls, dataset="ml-100k", config_dict=cfg)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = model_cls(config, train_data._dataset).to(config["device"])
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    base = get_trainer(config["MODEL_TYPE"], config["model"])
    train_only = []

    class ClockedTrainer(base):  # only adds a clock around RecBole's own epoch
        def _train_epoch(self, *a, **k):
            t = time.perf_counter()
            loss = super()._train_epoch(*a, **k)
            train_only.append(time.perf_counter() - t)
            return loss

    trainer = ClockedTrainer(config, model)
    marks = []
    start = time.perf_counter()
    trainer.fit(train_data, valid_data, saved=True, show_progress=False,
                callback_fn=lambda epoch, score: marks.append((time.perf_counter(), score)))
    test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    ends = [t for t, _ in marks]
    valid = [float(s) for _, s in marks]
    best = max(range(len(valid)), key=lambda i: (valid[i], -i)) + 1 if valid else None
    print("RESULT " + json.dumps({
        "epoch_s": [b - a for a, b in zip([start] + ends[:-1], ends)],
        "train_only_s": train_only, "ndcg10": float(test["ndcg@10"]),
        "hr10": float(test["hit@10"]), "best_epoch": best, "params": params,
        "samples": {"train": len(train_data.dataset), "valid": len(valid_data.dataset),
                    "test": len(test_data.dataset)},
        "valid_ndcg10": valid, "recbole": _recbole_version(spec),
        "anomaly_mode_as_shipped": anomaly_as_shipped,
        "anomaly_mode": torch.is_anomaly_enabled()}), flush=True)


def _recbole_version(spec):
    for d in pathlib.Path(spec.submodule_search_locations[0]).parent.glob("recbole-*.dist-info"):
        return d.name[len("recbole-"):-len(".dist-info")]
    return "?"


def _median(xs):
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recarena", help="the recarena binary (build/recarena)")
    ap.add_argument("--models", default="sasrec,gru4rec", help="comma-separated: sasrec, gru4rec")
    ap.add_argument("--epochs", type=int, default=10, help="training epochs on both sides")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads on both sides")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of each side per model (the medians of the per-run figures)")
    ap.add_argument("--data", default=None,
                    help="the ml-100k folder with u.data (default: $RECARENA_DATA_DIR/ml-100k or "
                         "../shared/data/ml-100k beside the repository)")
    ap.add_argument("--dir", default="/tmp/recarena-recbole-bench",
                    help="scratch folder (RecBole's atomic file, both sides' run folders)")
    ap.add_argument("--recbole-sizes", choices=["defaults", "recarena"], default="defaults",
                    help="RecBole's model sizes: its defaults, or its SASRec FFN (inner_size 64, "
                         "ReLU) and GRU4Rec GRU (hidden_size 64) set to recarena's fixed shapes")
    ap.add_argument("--recbole-anomaly", choices=["as-shipped", "off"], default="as-shipped",
                    help="autograd anomaly mode in RecBole: as its sequential models leave it (on, "
                         "set by sine.py at import), or off")
    ap.add_argument("--recbole-child", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    for flag in ("epochs", "threads", "rounds"):
        if getattr(args, flag) < 1:
            sys.exit(f"recbole_vs_recarena: --{flag} must be >= 1, got {getattr(args, flag)}")
    if args.recbole_child:
        return _recbole_child(args)
    if not args.recarena:
        sys.exit("recbole_vs_recarena: --recarena BINARY is required "
                 "(bench/run_recbole.sh passes it)")
    args.root = pathlib.Path(__file__).resolve().parent.parent
    if args.data is None:
        base = os.environ.get("RECARENA_DATA_DIR") or str(args.root.parent / "shared" / "data")
        args.data = str(pathlib.Path(base) / "ml-100k")
    u_data = pathlib.Path(args.data) / "u.data"
    if not u_data.is_file():
        sys.exit(f"recbole_vs_recarena: {u_data} not found (--data)")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            sys.exit(f"recbole_vs_recarena: unknown model '{m}'; choices: {', '.join(MODELS)}")
    scratch = pathlib.Path(args.dir)
    scratch.mkdir(parents=True, exist_ok=True)
    expect = _write_inter(u_data, scratch / "dataset")
    print(f"data: {u_data}: {expect['interactions']:,} interactions, {expect['users']} users, "
          f"{expect['items']} items; leave-one-out samples train {expect['train']:,} / valid "
          f"{expect['valid']} / test {expect['test']}; {-(-expect['train'] // BATCH)} batches of "
          f"{BATCH} per epoch")
    print(f"flags: epochs {args.epochs}, threads {args.threads}, seed {args.seed}, rounds "
          f"{args.rounds}, RecBole sizes {args.recbole_sizes}, RecBole anomaly mode "
          f"{args.recbole_anomaly}; scratch {scratch}", flush=True)
    sizes = {m: {**RECBOLE_MODEL[m], **(RECBOLE_AS_RECARENA[m] if args.recbole_sizes == "recarena"
                                       else {})} for m in models}
    print("RecBole model settings: " + "; ".join(
        f"{MODELS[m]} " + ", ".join(f"{k} {v}" for k, v in sizes[m].items()) for m in models))
    rows = []
    k = 0
    for rnd in range(1, args.rounds + 1):
        for model in models:
            sides = ["recarena", "RecBole"] if k % 2 == 0 else ["RecBole", "recarena"]
            k += 1
            for side in sides:
                r = (_run_recarena(args, model, rnd, expect, scratch) if side == "recarena"
                     else _run_recbole(args, model, rnd, scratch))
                want = {x: expect[x] for x in ("train", "valid", "test")}
                if r["samples"] != want:
                    sys.exit(f"{side} {model}: samples {r['samples']}, expected {want}: the two "
                             "sides do not see the same split")
                r["median_epoch_s"] = _median(r["epoch_s"])
                r["median_train_only_s"] = _median(r["train_only_s"] or [])
                rows.append(r)
                print(json.dumps(r), flush=True)
                print(f"{side} {model} round {rnd}: {r['median_epoch_s']:.2f} s/epoch, "
                      f"peak {r['peak_mb']:.0f} MB, NDCG@10 {r['ndcg10']:.4f}, load "
                      f"{' '.join(open('/proc/loadavg').read().split()[:3])}",
                      file=sys.stderr, flush=True)
    print(f"\nrecarena vs RecBole {next((r['recbole'] for r in rows if r.get('recbole')), '?')} "
          f"on ml-100k, leave-one-out, full ranking: {args.epochs} epochs, {args.threads} threads "
          f"per side, seed {args.seed}, {args.rounds} round(s), RecBole sizes "
          f"{args.recbole_sizes}, "
          f"RecBole autograd anomaly mode "
          f"{'on' if all(r['anomaly_mode'] for r in rows if r['side'] == 'RecBole') else 'off'}; "
          "s/epoch = median over epochs of (train epoch + validation + checkpoint), then median "
          "over rounds")
    print("| model | side | params | s/epoch | RecBole train-only s/epoch | peak MB | NDCG@10 | "
          "HR@10 | best epoch | RecBole/recarena s/epoch |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model in models:
        per = {}
        for side in ("recarena", "RecBole"):
            rs = [r for r in rows if r["model"] == model and r["side"] == side]
            per[side] = {
                "s": _median([r["median_epoch_s"] for r in rs]),
                "train": _median([r["median_train_only_s"] for r in rs if r["train_only_s"]]),
                "mb": _median([r["peak_mb"] for r in rs]),
                "ndcg": _median([r["ndcg10"] for r in rs]), "hr": _median([r["hr10"] for r in rs]),
                "best": ",".join(str(r["best_epoch"]) for r in rs),
                "params": rs[0]["params"]}
        ratio = per["RecBole"]["s"] / per["recarena"]["s"]
        for side in ("recarena", "RecBole"):
            p = per[side]
            train = "" if side == "recarena" else f"{p['train']:.2f}"
            shown_ratio = f"{ratio:.2f}" if side == "recarena" else ""
            print(f"| {model} | {side} | {p['params'] or '?'} | {p['s']:.2f} | {train} | "
                  f"{p['mb']:.0f} | {p['ndcg']:.4f} | {p['hr']:.4f} | {p['best']} | "
                  f"{shown_ratio} |")
    print("\nProtocol differences that could not be removed:")
    for i, d in enumerate(PROTOCOL_DIFFERENCES, 1):
        print(f"{i}. {d}")


if __name__ == "__main__":
    main()
