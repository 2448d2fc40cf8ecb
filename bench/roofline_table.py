#!/usr/bin/env python3
"""Prints the "where the limit is" table from `recarena_bench_sim --roofline` JSON lines (stdin or
files): per (implementation, batch size) the step's FLOPs, bytes and operators per env step, the
achieved GFLOP/s and GB/s, their share of the machine's measured peak on the same threads, and the
CPU tensor allocations per step. bench/step_cost.h defines every column. Then, per implementation at
its largest batch, where the time goes: the costliest operators in ms per step (under the
profiler, which adds its own cost to every operator)."""

import fileinput
import json


def main():
    rows = [json.loads(line) for line in fileinput.input() if line.startswith("{")]
    if not rows:
        raise SystemExit("roofline_table.py: no JSON lines (run recarena_bench_sim --roofline)")
    # Each program run measures the peak once; the % columns use the row's own run.
    for impl in dict.fromkeys(r.get("impl", "cpp") for r in rows):
        r0 = next(r for r in rows if r.get("impl", "cpp") == impl)
        print(f"{impl}: peak on {r0['threads']} thread(s) {r0['peak_gflops']:.1f} GFLOP/s "
              f"(float32 1024^3 matrix product), {r0['peak_gbs']:.1f} GB/s (256 MB copy, read + "
              f"write); ridge {r0['ridge_intensity']:.1f} FLOP/byte")
    print("| impl | B | user-steps/s | step ms | MFLOP/step | MB/step | ops/step | FLOP/byte | "
          "GFLOP/s | % peak FLOP/s | GB/s | % peak GB/s | allocs/step | alloc MB/step |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        step_ms = r["seconds"] / r["steps"] * 1e3
        print(f"| {r.get('impl', 'cpp')} | {r['batch']} | {r['steps_per_s']:,.0f} | {step_ms:.3f} | "
              f"{r['step_flops'] / 1e6:.2f} | {r['step_bytes'] / 1e6:.2f} | {r['step_ops']:.0f} | "
              f"{r['arithmetic_intensity']:.2f} | {r['achieved_gflops']:.2f} | "
              f"{100 * r['share_of_peak_flops']:.1f} | {r['achieved_gbs']:.2f} | "
              f"{100 * r['share_of_peak_bytes']:.1f} | {r['step_allocations']:.0f} | "
              f"{r['step_alloc_bytes'] / 1e6:.2f} |")
    for impl in dict.fromkeys(r.get("impl", "cpp") for r in rows):
        r = max((r for r in rows if r.get("impl", "cpp") == impl), key=lambda r: r["batch"])
        ops = ", ".join(f"{name.removeprefix('aten::')} {ms:.2f}" for name, ms in
                        r.get("step_op_ms", [])[:8])
        print(f"{impl}, B = {r['batch']}, ms per step by operator (step under the profiler "
              f"{r.get('step_profiled_ms', float('nan')):.2f} ms): {ops}")


if __name__ == "__main__":
    main()
