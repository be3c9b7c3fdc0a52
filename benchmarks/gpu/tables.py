"""The tables of a run's results, and several runs merged into one."""

from __future__ import annotations

from typing import Any

# --- tables -----------------------------------------------------------------------------------


def num(value: Any, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# What identifies a row of each part; rows of the "refiner" part are all kept.
KEYS = {
    "speed": ("method", "size", "batch", "dtype", "channels_last", "mode", "patches"),
    "syncs": ("patches",), "precision": ("method", "dtype", "how", "fit_steps"),
    "hdmatt": ("size",), "train": ("method", "size", "batch", "precision"), "fdr": ("method",),
}  # fmt: skip


def merge(runs: list[dict]) -> dict:
    """Several runs' results as one: the first run's meta, rows in order, later ones replacing
    earlier ones with the same key (a part re-run after a fix)."""
    merged: dict[str, Any] = {"meta": runs[0]["meta"] | {"runs": [r["meta"]["time"] for r in runs]}}
    for results in runs:
        for part, rows in results.items():
            if part == "meta":
                continue
            kept = merged.setdefault(part, [])
            for row in rows:
                key = [k for k in KEYS.get(part, ()) if k in row]
                same = [i for i, old in enumerate(kept)
                        if key and all(old.get(k) == row[k] for k in key)]  # fmt: skip
                if same:
                    kept[same[0]] = row
                else:
                    kept.append(row)
    return merged


def tables(results: dict) -> str:
    m = results["meta"]
    lines = [f"{m.get('gpu', 'cpu')}, torch {m['torch']} (CUDA {m.get('cuda')}), cuDNN benchmark "
             f"{'on' if m['cudnn_benchmark'] else 'off'}, fp32 convolutions in TF32 "
             f"{'on' if m['conv_tf32'] else 'off'}; random weights, batch 1, median of 50 runs "
             "after 10 warm-up (CUDA events).", "",
             "| network | size | dtype | channels_last | mode | BGMv2 patches (refined) | "
             "latency ms | FPS | peak MiB |", "|---|---|---|---|---|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("speed", []):
        patches = f"{r['patches']} ({r.get('refined', '-')})" if "patches" in r else "-"
        timing = [num(r.get("latency_ms"), 2), num(r.get("fps"), 0), num(r.get("peak_mib"), 0)]
        if "error" in r:
            timing = [r["error"][:80], "-", "-"]
        lines.append(
            "| "
            + " | ".join(
                [
                    r["method"],
                    r["size"],
                    r["dtype"],
                    "on" if r["channels_last"] else "off",
                    r["mode"],
                    patches,
                    *timing,
                ]
            )
            + " |"
        )
    lines += ["", "| BGMv2-R50 HD forward | host syncs |", "|---|--:|"]
    lines += [f"| {r['patches']} | {r['syncs']} |" for r in results.get("syncs", [])]
    lines += ["", "| BGMv2-R50 1920x1080 fp16 channels_last | patches | latency ms |",
              "|---|---|--:|"]  # fmt: skip
    for r in results.get("refiner", []):
        timing = r["error"][:80] if "error" in r else num(r.get("latency_ms"), 2)
        lines.append(f"| {r['mode']} | {r['patches']} | {timing} |")
    lines += ["", "| method | vs fp32 (TF32 off) | max abs | mean abs | pixels > 1/255 |",
              "|---|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("precision", []):
        label = f"{r['dtype']} {r['how']}" if r["how"] != "tf32" else "fp32 with TF32 (default)"
        cells = [
            num(r.get("max_abs"), 4),
            num(r.get("mean_abs"), 5),
            f"{100 * r['over_1_255']:.2f}%" if "over_1_255" in r else r.get("error", "-"),
        ]
        weights = f"{r['fit_steps']} steps trained" if r.get("fit_steps") else "random weights"
        lines.append(f"| {r['method']} ({weights}, {r['frames']} frames) | {label} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "| HDMatt crop-and-stitch | query patches run / grid | s (first call) | "
              "peak GiB |", "|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("hdmatt", []):
        lines.append(
            f"| {r['size']}² | {r.get('queries', '-')} / {r.get('grid', '-')} | "
            f"{num(r.get('seconds'), 2)} ({num(r.get('first_s'), 2)}) | "
            f"{num(r.get('peak_gib'), 2)} |"
        )
    lines += ["", "| training step, batch 8 | crop | precision | ms/step | images/s | peak MiB |",
              "|---|--:|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("train", []):
        cells = [num(r.get("step_ms"), 1), num(r.get("images_s"), 1), num(r.get("peak_mib"), 0)]
        if "error" in r:
            cells = [r["error"][:80], "-", "-"]
        lines.append(f"| {r['method']} | {r['size']}² | {r['precision']} | " + " | ".join(cells)
                     + " |")  # fmt: skip
    if results.get("fdr"):
        lines += ["", "| `train.py trainer=gpu debug=fdr` | exit | s |", "|---|--:|--:|"]
        lines += [f"| {r['method']} | {r['rc']} | {r['seconds']} |" for r in results["fdr"]]
    return "\n".join(lines)
