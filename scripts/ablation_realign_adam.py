"""How the Rayleigh-Ritz step carries Adam's squared-gradient average over: the library's map vs a bound.

    python -m scripts.ablation_realign_adam --out results/ablation_realign_adam

:meth:`SpectralLearner.realign` replaces the output layer's rows by B^T W, so their gradient becomes g' = B^-1 g,
and maps Adam's squared average by (B^-1)^2, as if the gradient's coordinates were independent. That can
under-estimate the new second moment when they are correlated; the bound (|B^-1| sqrt(v))^2 holds whatever their
correlation (Minkowski). Tried after a fresh-seed NestedLoRA fit of GridMaze-9 (seed 11) diverged 16 steps after a
realign: the bound let that fit finish (mean cosine 0.986), but on these development seeds it diverged GridMaze-9
seed 0 instead and cost accuracy on GridRoom-64, so the library keeps its map. This script fits NestedLoRA at the
``rlspectral fit`` defaults (5000 steps, batch 8192) on development seeds with both (the bound re-created here by
wrapping ``realign``) and reports the mean cosine of the modes as learned and after the final Rayleigh-Ritz step,
and any divergence. Resumable.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral import report
from rlspectral.errors import DivergenceError

LAYOUTS = ["GridRoomSym-4", "GridRoom-64", "GridMaze-26", "GridRoom-32", "GridMaze-9"]


def _bound_map(realign: Any) -> Any:
    """``realign`` with Adam's squared average mapped to the bound (|B^-1| sqrt(v))^2 instead of (B^-1)^2 v."""

    def wrapped(self: Any, max_condition: float = 10.0) -> Any:
        layer = self.f.output_layer()
        params = [p for p in (layer.weight, layer.bias) if p is not None]
        before = {id(p): self.optimizer.state.get(p, {}).get("exp_avg_sq") for p in params}
        before = {key: None if v is None else v.clone() for key, v in before.items()}
        B = realign(self, max_condition)
        if B is not None:
            Binv = torch.linalg.inv(B)
            for p in params:
                state = self.optimizer.state.get(p, {})
                if "exp_avg_sq" in state and before[id(p)] is not None:
                    rms = Binv.abs() @ before[id(p)].double().clamp_min(0).sqrt()
                    state["exp_avg_sq"].copy_(rms.square().to(p.dtype))
        return B

    return wrapped


def fit(layout: str, seed: int, carry: str, steps: int) -> dict[str, Any]:
    from rlspectral import learner as learner_module
    from rlspectral.experiments import GridFitConfig, fit_gridworld

    original = learner_module.SpectralLearner.realign
    if carry == "bound":
        learner_module.SpectralLearner.realign = _bound_map(original)
    try:
        m = fit_gridworld(GridFitConfig(layout=layout, method="nested-lora", seed=seed, steps=steps), progress=False)
        out = {key: m[key] for key in ("mean_cosine_similarity", "rr_mean_cosine_similarity", "wall_time_s")}
        out["diverged"] = False
    except DivergenceError as e:
        out = {"mean_cosine_similarity": None, "rr_mean_cosine_similarity": None, "diverged": True, "error": str(e)}
    finally:
        learner_module.SpectralLearner.realign = original
    return {"layout": layout, "seed": seed, "carry": carry, **out}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/ablation_realign_adam", help="results folder (resumable)")
    p.add_argument("--layouts", nargs="+", default=LAYOUTS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="development seeds")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "runs.json"
    runs: list[dict[str, Any]] = json.loads(path.read_text()) if path.is_file() else []
    t0 = time.time()
    for layout in args.layouts:
        for seed in args.seeds:
            for carry in ("independent", "bound"):
                if any((r["layout"], r["seed"], r["carry"]) == (layout, seed, carry) for r in runs):
                    continue
                runs.append(fit(layout, seed, carry, args.steps))
                report.write_json(path, runs)
                r = runs[-1]
                print(f"{layout} s{seed} {carry}: {r['mean_cosine_similarity']} diverged={r['diverged']}", flush=True)
    rows = []
    for layout in args.layouts:
        row = [layout]
        for carry in ("independent", "bound"):
            rs = [r for r in runs if r["layout"] == layout and r["carry"] == carry]
            ok = [r for r in rs if not r["diverged"]]
            for key in ("mean_cosine_similarity", "rr_mean_cosine_similarity"):
                row.append(" / ".join(f"{r[key]:.4f}" for r in ok) or "–")
            row.append(f"{sum(r['diverged'] for r in rs)}/{len(rs)}")
        rows.append(row)
    header = ["layout", "(B^-1)^2 map (the library's): as learned, per seed", "after RR", "diverged",
              "bound: as learned, per seed", "bound: after RR", "bound: diverged"]  # fmt: skip
    title = (
        f"**NestedLoRA at the fit defaults, development seeds {args.seeds}: Adam's squared average after a "
        f"Rayleigh-Ritz step mapped by (B^-1)^2 or bounded** ({time.time() - t0:.0f} s this call)"
    )
    means = {c: float(np.mean([r["mean_cosine_similarity"] for r in runs if r["carry"] == c and not r["diverged"]]))
             for c in ("independent", "bound")}  # fmt: skip
    lines = [
        title,
        "",
        *report.markdown_table(header, rows),
        "",
        f"Mean over the fits that did not diverge: (B^-1)^2 {means['independent']:.4f}, bound {means['bound']:.4f}.",
    ]
    report.write_markdown(out / "table.md", lines)
    report.write_json(out / "summary.json", {"means": means, "runs": runs})
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
