"""Data-parallel learning (rlspectral.distributed) on 2 CPU processes (gloo): one step equals the single-process step
at twice the batch, the replicas stay identical, and only rank 0 writes files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from rlspectral import distributed
from rlspectral.buffer import PairSampler
from rlspectral.koopman.generator import GeneratorLearner
from rlspectral.learner import LearnerConfig, SpectralLearner

WORLD = 2
B = 64  # pairs per rank; the single-process reference steps on WORLD * B
CASES = {
    # one network, every pair through it; an objective with sequential (stop-gradient) moments
    "omm-seq": dict(obs_shape=(2,), k=4, method="nested-omm-seq", operator="successor:0.9"),
    # the gridworld default: one forward pass per distinct cell, moments from count matrices
    "lora-dedup": dict(obs_shape=(2,), k=4, method="nested-lora", operator="successor:0.9", dedup=True),
    # two networks (SVD of a time-lag operator)
    "lora-svd": dict(obs_shape=(2,), k=3, method="nested-lora", operator="time-lag:1"),
    # ALLO: duals updated from the moments after each step (after_step)
    "allo": dict(obs_shape=(2,), k=4, method="allo", operator="successor:0.9"),
    # the Koopman generator fit: moments from input Jacobians of stationary states (no pairs)
    "generator": dict(obs_shape=(2,), k=3, method="nested-lora", operator="time-lag:1", svd=False),
}


FIT = LearnerConfig(
    obs_shape=(2,),
    k=4,
    hidden=(32, 32),
    fourier_features=8,
    dedup=True,
    realign_every=10,
    final_realign_batches=3,
    seed=5,
    objective_kwargs={"shift": 0.1},
)
FIT_SEED, FIT_STEPS, FIT_BATCH = 6, 30, 256


def make(name: str) -> SpectralLearner:
    config = LearnerConfig(hidden=(32, 32), fourier_features=8, lr=1e-3, seed=3, **CASES[name])
    return GeneratorLearner(config, beta=1.0, shift=2.0) if name == "generator" else SpectralLearner(config)


def step(learner: SpectralLearner, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    return learner.update(x, None) if isinstance(learner, GeneratorLearner) else learner.update(x, y)


def global_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The union batch of one step (cells of a 6x6 grid, so dedup finds repeats), same on every rank."""
    gen = torch.Generator().manual_seed(100 + step)
    cells = torch.randint(0, 6, (2, WORLD * B, 2), generator=gen).float() / 5 * 2 - 1
    return cells[0], cells[1]


def rank_batch(x: torch.Tensor, rank: int, splits: int) -> torch.Tensor:
    """Rank r's batch: its share of every chunk of the union batch (chunk s of the union = the ranks' chunks s)."""
    chunk, share = x.shape[0] // splits, B // splits
    return torch.cat([x[s * chunk + rank * share : s * chunk + (rank + 1) * share] for s in range(splits)])


def state(learner: SpectralLearner) -> dict[str, torch.Tensor]:
    nets = [("f", learner.f)] + ([("g", learner.g)] if learner.g is not None else [])
    out = {f"{n}.{k}": p.detach().clone() for n, net in nets for k, p in net.named_parameters()}
    out.update({f"grad.{n}.{k}": p.grad.clone() for n, net in nets for k, p in net.named_parameters()})
    out.update({f"running.{n}": t.clone() for n, t in (("C", learner.running_C), ("Mf", learner.running_Mf))})
    out.update({f"objective.{k}": v.clone() for k, v in learner.objective.state_dict().items()})
    return out


def _worker(rank: int, tmp: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp}/pg", rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    try:
        assert distributed.world() == (rank, WORLD) and distributed.is_main() == (rank == 0)
        for name in CASES:
            learner = make(name)
            if rank == 1:  # a replica that starts elsewhere is overwritten by rank 0's weights
                with torch.no_grad():
                    learner.f.output_layer().weight.add_(1.0)
            distributed.attach(learner)
            splits = learner.objective.splits
            stats = step(learner, *(rank_batch(t, rank, splits) for t in global_batch(0)))
            torch.save({"stats": stats, **state(learner)}, f"{tmp}/{name}_step1_rank{rank}.pt")
            for i in range(1, 4):
                step(learner, *(rank_batch(t, rank, splits) for t in global_batch(i)))
            if learner._can_realign():
                learner.realign()
            torch.save(state(learner), f"{tmp}/{name}_step4_rank{rank}.pt")
            learner.save(f"{tmp}/{name}_checkpoint_rank{rank}.pt")  # rank 1 writes nothing
        # the harness: each rank fits on its own batches, rank 0 alone writes metrics and the checkpoint
        from rlspectral.envs.problems import gridworld_problem
        from rlspectral.harness import FitConfig, fit_and_score

        problem = gridworld_problem("GridRoom-4", "xy", 4, 40, 20, seed=0)
        fc = FitConfig(k=4, steps=6, batch_size=256, hidden=(16, 16), fourier_features=8, eval_every=3)
        lcfg = fc.learner_config(problem.buffer.obs_shape, 4, 8, 1.0, dedup=True)
        out = f"{tmp}/fit" if rank == 0 else f"{tmp}/fit_rank1"
        m = fit_and_score(problem, lcfg, fc.to_dict(), fc.batch_size, fc.eval_every, out, progress=False)
        learner_state = {k: v for k, v in m.items() if k in ("processes", "steps", "mean_cosine_similarity")}
        (open(f"{tmp}/fit_rank{rank}.json", "w")).write(json.dumps(learner_state))
        with pytest.raises(Exception, match="multiple of processes x chunks"):
            distributed.local_batch(255, 2)
        # a whole fit (Rayleigh-Ritz steps, the final one on fresh batches) from each rank's own sampler stream
        learner = SpectralLearner(FIT)
        distributed.attach(learner)
        sampler = PairSampler(problem.buffer, learner.operator, seed=distributed.sampler_seed(FIT_SEED))
        learner.fit(sampler, FIT_STEPS, distributed.local_batch(FIT_BATCH, 2), progress=False)
        torch.save(state(learner), f"{tmp}/fit_stream_rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(str(tmp),), nprocs=WORLD, join=True)
    return tmp


@pytest.mark.parametrize("name", list(CASES))
def test_one_step_equals_the_single_process_step_at_twice_the_batch(two_ranks, name):
    ref = make(name)
    stats = step(ref, *global_batch(0))
    want = state(ref)
    for rank in range(WORLD):
        got = torch.load(two_ranks / f"{name}_step1_rank{rank}.pt", weights_only=True)
        assert got["stats"]["loss"] == pytest.approx(stats["loss"], rel=1e-5, abs=1e-6)
        for key, value in want.items():
            scale = float(value.abs().max()) + 1e-12
            err = float((got[key] - value).abs().max())
            # gradients to float32 round-off of the reordered sums (measured <= 3.2e-7 relative); the weights after
            # Adam's first step to one float32 ulp (measured 1.5e-8; a gradient off by 2x moves them by 1.6e-6)
            tol = 2e-6 * scale if key.startswith("grad.") else 1e-7 * max(scale, 1.0)
            assert err <= tol, (name, key, err, scale)


@pytest.mark.parametrize("name", list(CASES))
def test_replicas_stay_identical(two_ranks, name):
    a, b = (torch.load(two_ranks / f"{name}_step4_rank{r}.pt", weights_only=True) for r in range(WORLD))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not (two_ranks / f"{name}_checkpoint_rank1.pt").exists()
    loaded = SpectralLearner.load(two_ranks / f"{name}_checkpoint_rank0.pt")  # a plain learner, no process group
    assert loaded.step == 4 and loaded.parallel is None
    for key, p in loaded.f.named_parameters():
        assert torch.equal(p, b[f"f.{key}"]), key  # rank 0's checkpoint holds rank 1's weights too


class UnionSampler:
    """The single process's view of the ranks' samplers: each rank's stream, its batch cut into the ranks' chunks."""

    def __init__(self, buffer, operator, seeds: list[int]):
        self.samplers = [PairSampler(buffer, operator, seed=s) for s in seeds]

    def __call__(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [s(batch_size // WORLD) for s in self.samplers]
        half = batch_size // WORLD // 2  # two chunks per batch (NestedLoRA)
        x, y = ([p[i][c * half : (c + 1) * half] for c in range(2) for p in parts] for i in range(2))
        return torch.cat(x), torch.cat(y)


def test_a_whole_fit_equals_the_single_process_fit_on_the_union_batches(two_ranks, monkeypatch):
    from rlspectral.envs.problems import gridworld_problem

    problem = gridworld_problem("GridRoom-4", "xy", 4, 40, 20, seed=0)
    seeds = []
    for rank in range(WORLD):
        monkeypatch.setattr(distributed, "world", lambda rank=rank: (rank, WORLD))
        seeds.append(distributed.sampler_seed(FIT_SEED))
    monkeypatch.undo()
    ref = SpectralLearner(FIT)
    ref.fit(UnionSampler(problem.buffer, ref.operator, seeds), FIT_STEPS, FIT_BATCH, progress=False)
    want = state(ref)
    got = torch.load(two_ranks / "fit_stream_rank1.pt", weights_only=True)
    for key, value in want.items():
        err = float((got[key] - value).abs().max())
        assert err <= 1e-4 * max(float(value.abs().max()), 1.0), (key, err)  # measured 1.8e-5; another stream: 0.7


def test_only_rank_zero_writes_and_its_checkpoint_loads(two_ranks):
    assert (two_ranks / "fit" / "metrics.json").is_file() and (two_ranks / "fit" / "model.pt").is_file()
    assert not (two_ranks / "fit_rank1").exists()
    r0, r1 = (json.loads((two_ranks / f"fit_rank{r}.json").read_text()) for r in range(WORLD))
    assert r0 == r1 and r0["processes"] == WORLD and r0["steps"] == 6
    learner = SpectralLearner.load(two_ranks / "fit" / "model.pt")
    assert learner.step == 6 and json.loads((two_ranks / "fit" / "metrics.json").read_text())["processes"] == WORLD


def test_single_process_paths_are_untouched():
    assert distributed.world() == (0, 1) and distributed.is_main()
    assert distributed.local_batch(255, 2) == 255  # a single process keeps any batch
    assert distributed.sampler_seed(7) == 7
    assert os.environ.get("WORLD_SIZE") is None or distributed.init_from_environment("cpu") == "cpu"
    assert make("allo").parallel is None


def test_sampler_seeds_differ_per_rank(monkeypatch):
    seeds = []
    for rank in range(3):
        monkeypatch.setattr(distributed, "world", lambda rank=rank: (rank, 3))
        seeds.append(distributed.sampler_seed(5))
    assert len(set(seeds)) == 3 and 5 not in seeds
    streams = [np.random.default_rng(s).random(4) for s in seeds]
    assert not np.allclose(streams[0], streams[1])


@pytest.mark.slow
def test_command_line_under_torchrun(tmp_path):
    """``torchrun --nproc-per-node 2 -m rlspectral.cli fit|fit-traj``: one report, files from rank 0, loadable."""
    rng = np.random.default_rng(0)
    x = np.zeros((4, 300, 2))
    for t in range(1, 300):  # AR(1) trajectories
        x[:, t] = 0.9 * x[:, t - 1] + np.sqrt(1 - 0.81) * rng.standard_normal((4, 2))
    np.save(tmp_path / "traj.npy", x)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "rlspectral.cli"]
    commands = {
        "fit": ["fit", "--steps", "30", "--episodes", "200", "--batch-size", "512", "--threads", "1"],
        "fit-traj": [
            "fit-traj",
            str(tmp_path / "traj.npy"),
            "--lag",
            "1",
            "--k",
            "3",
            "--steps",
            "30",
            "--batch-size",
            "256",
            "--threads",
            "1",
        ],  # fmt: skip
    }
    for name, argv in commands.items():
        out = tmp_path / name
        res = subprocess.run([*run, *argv, "--out", str(out), "--no-progress"], capture_output=True, text=True,
                             env=env, timeout=300, cwd=tmp_path)  # fmt: skip
        assert res.returncode == 0, res.stderr[-2000:]
        lines = [ln for ln in res.stdout.splitlines() if str(out) in ln]
        assert len(lines) == 1, res.stdout  # rank 0 alone reports
        assert name != "fit" or "2 processes" in lines[0]
        assert json.loads((out / "metrics.json").read_text())["steps"] == 30
    fit = json.loads((tmp_path / "fit" / "metrics.json").read_text())
    assert fit["processes"] == 2
    assert SpectralLearner.load(tmp_path / "fit" / "model.pt").step == 30
    from rlspectral.koopman import load

    assert load(tmp_path / "fit-traj" / "model.pt") is not None
