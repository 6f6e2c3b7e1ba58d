#!/usr/bin/env python3
"""Google Benchmark JSON files → Markdown rows, median (min–max) over the repetitions (bench/run_all.sh).

Usage: gbench_table.py FILE.json...  Prints one row per benchmark and figure: `| binary | benchmark | figure |
median (min–max) |`, then lines "GBFIGURE binary benchmark key median" for the harness's target table.
Figures: items/s (SetItemsProcessed), MB/s (SetBytesProcessed), every user counter (rates such as
replies/s or lines/s, and sizes such as bytes per record or per address), and real time per iteration.
The individual repetitions are read from the file (run_type "iteration"), so min and max are real runs,
not Google Benchmark's mean/stddev aggregates.
"""
import json
import os
import statistics
import sys

STANDARD = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
            "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
            "items_per_second", "bytes_per_second", "aggregate_name", "aggregate_unit", "label",
            "error_occurred", "error_message"}


def fmt(v):
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def main():
    for path in sys.argv[1:]:
        binary = os.path.basename(path).removesuffix(".json")
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"| {binary} | — | unreadable results ({e}) | — |")
            continue
        runs = {}
        order = []
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue
            name = b.get("run_name", b["name"])
            if b.get("error_occurred"):
                runs.setdefault(name, {})["error"] = [b.get("error_message", "error")]
                continue
            if name not in runs:
                runs[name] = {}
                order.append(name)
            r = runs[name]
            unit = b.get("time_unit", "ns")
            r.setdefault(f"real time per iteration ({unit})", []).append(b["real_time"])
            if "items_per_second" in b:
                r.setdefault("items/s", []).append(b["items_per_second"])
            if "bytes_per_second" in b:
                r.setdefault("MB/s", []).append(b["bytes_per_second"] / 1e6)
            for k, v in b.items():
                if k not in STANDARD and isinstance(v, (int, float)):
                    r.setdefault(k, []).append(float(v))
        for name in order:
            r = runs[name]
            if "error" in r:
                print(f"| {binary} | {name} | error | {r['error'][0]} |")
                continue
            for key, vals in r.items():
                med = statistics.median(vals)
                print(f"| {binary} | {name} | {key} | {fmt(med)} ({fmt(min(vals))}–{fmt(max(vals))}), {len(vals)} runs |")
                print(f"GBFIGURE {binary} {name} {key.replace(' ', '_')} {med}")


if __name__ == "__main__":
    main()
