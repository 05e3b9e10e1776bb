"""Configs check their own fields: a bad one is a one-line ConfigError naming the field; the command lines
report it under the flag the user typed (exit 2, no traceback)."""

import subprocess
import sys

import pytest
import torch

from rlspectral import ConfigError, EpisodicBuffer, LearnerConfig, SpectralError, transition
from rlspectral.cli.main import main
from rlspectral.config import config_dict
from rlspectral.errors import DataError
from rlspectral.experiments import GridFitConfig, MazeFitConfig
from rlspectral.harness import FitConfig
from rlspectral.networks import NetworkConfig
from rlspectral.operators import make_operator


def one_line_about(error: ConfigError, field: str) -> str:
    msg = str(error)
    assert "\n" not in msg and error.field == field and msg.startswith(f"{field}="), msg
    return msg


@pytest.mark.parametrize(
    "field, value",
    [
        ("k", 0),
        ("k", 2.5),
        ("method", "nested-loraa"),
        ("operator", "bogus"),
        ("operator", "successor:1.5"),
        ("operator", "successor:abc"),
        ("operator", "time-lag:0"),
        ("svd", "yes"),
        ("hidden", (256, 0)),
        ("fourier_features", -1),
        ("fourier_scale", 0.0),
        ("inputs", (0, 5)),
        ("input_low", (-1.0,)),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("schedule", "linear"),
        ("total_steps", -1),
        ("warmup_steps", -1),
        ("grad_clip", -1.0),
        ("ema", 1.0),
        ("realign_every", -1),
        ("realign_batches", -1),
        ("divergence_limit", 0.0),
        ("obs_shape", (2, 3, 4, 5)),
    ],
)
def test_learner_config_rejects_a_bad_field(field, value):
    base = dict(obs_shape=(2,), k=3, fourier_features=4, input_high=(1.0, 1.0) if field == "input_low" else ())
    with pytest.raises(ConfigError) as e:
        LearnerConfig(**{**base, field: value})
    assert repr(value) in one_line_about(e.value, field)


def test_constant_mode_needs_a_learned_mode_and_images_read_whole():
    with pytest.raises(ConfigError) as e:
        LearnerConfig(obs_shape=(2,), k=1, constant_mode=True)
    one_line_about(e.value, "k")
    with pytest.raises(ConfigError) as e:
        NetworkConfig(obs_shape=(3, 8, 8), k=2, inputs=(0,))
    one_line_about(e.value, "inputs")


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(svd=True, operator="lazy"), "svd"),  # the identity term needs one network
        (dict(method="nested-omm", operator="time-lag:1"), "method"),  # NestedOMM has no SVD form
        (dict(method="allo", realign_every=10), "realign_every"),
        (dict(objective_kwargs={"shfit": 0.1}), "objective_kwargs"),
        (dict(method="nested-omm", objective_kwargs={"order": 3}), "order"),
    ],
)
def test_learner_rejects_a_setup_that_cannot_work(kw, field):
    from rlspectral import SpectralLearner

    with pytest.raises(ConfigError) as e:
        SpectralLearner(LearnerConfig(obs_shape=(2,), k=3, hidden=(8,), **kw))
    one_line_about(e.value, field)


@pytest.mark.parametrize(
    "cls, field, value",
    [
        (FitConfig, "steps", 0),
        (FitConfig, "batch_size", 0),
        (FitConfig, "eval_every", -1),
        (FitConfig, "threads", -1),
        (FitConfig, "device", "gpu0"),
        (FitConfig, "device", "meta"),
        (FitConfig, "k", 0),  # the learner's fields, checked by the LearnerConfig they become
        (FitConfig, "lr", -1.0),
        (FitConfig, "method", "lora"),
        (FitConfig, "operator", "successor:2"),
        (FitConfig, "realign_every", -1),
        (GridFitConfig, "obs", "rgb"),
        (GridFitConfig, "episodes", 0),
        (GridFitConfig, "episode_length", 0),
        (GridFitConfig, "extra_modes", -1),
        (GridFitConfig, "realign_every", -1),
        (GridFitConfig, "realign_every", -5),
        (MazeFitConfig, "resolution", 0),
    ],
)
def test_fit_configs_reject_a_bad_field(cls, field, value):
    with pytest.raises(ConfigError) as e:
        cls(**{field: value})
    one_line_about(e.value, field)


def test_operator_strings():
    assert make_operator("successor:0.5").lam == 0.5 and make_operator("time-lag:3").tau == 3
    for spec in ("transition:2", "successor:1", "successor:-0.5", "lag:x", "lag:0", ""):
        with pytest.raises(ConfigError) as e:
            make_operator(spec)
        one_line_about(e.value, "operator")


def test_errors_stay_value_errors_and_data_errors_are_spectral():
    assert issubclass(ConfigError, ValueError) and issubclass(DataError, ValueError)
    with pytest.raises(ConfigError):
        EpisodicBuffer(1, (2,))
    buf = EpisodicBuffer(10, (2,))
    with pytest.raises(DataError, match="empty"):
        buf.sample_pairs(4, transition(), None)
    with pytest.raises(SpectralError, match="shape"):
        buf.add_episode(torch.zeros(3, 5))


def test_sweep_names_the_repeated_job_ids(tmp_path):
    from rlspectral.sweep import run_sweep

    with pytest.raises(ConfigError, match="repeated: a"):
        list(run_sweep("tests.test_sweep:square", [{"id": "a"}, {"id": "b"}, {"id": "a"}], tmp_path))


def test_config_dict_is_the_stored_form():
    cfg = LearnerConfig(obs_shape=(2,), k=3, hidden=(16, 16), input_low=(0.0, 0.0), input_high=(1.0, 1.0))
    d = cfg.to_dict()
    assert d == config_dict(cfg) and d["hidden"] == [16, 16] and d["obs_shape"] == [2] and d["k"] == 3
    assert list(d) == list(cfg.__dataclass_fields__) and LearnerConfig.from_dict(d) == cfg
    assert cfg.network_config().to_dict()["cnn_channels"] == [32, 64]
    g = GridFitConfig(hidden=(8,))
    assert g.to_dict()["hidden"] == [8] and GridFitConfig(**g.to_dict()).to_dict() == g.to_dict()


def run_cli(argv, capsys):
    rc = main(argv)
    return rc, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["fit", "--steps", "0"], "--steps=0"),
        (["fit", "--k", "0"], "--k=0"),
        (["fit", "--dim", "0"], "--k=0"),  # the old spelling of --k reports the new one
        (["fit", "--batch-size", "0"], "--batch-size=0"),
        (["fit", "--episode-length", "0"], "--episode-length=0"),
        (["fit", "--lr", "0"], "--lr=0.0"),
        (["fit", "--operator", "successor:7"], "--operator='successor:7'"),
        (["train", "--env", "NoSuchEnv-v0", "--steps", "0"], "--steps=0"),
        (["train", "--env", "NoSuchEnv-v0", "--steps", "-3", "--no-progress"], "--steps=-3"),
    ],
)
def test_cli_names_the_flag_in_one_line(argv, flag, capsys):
    rc, err = run_cli(argv, capsys)
    assert rc == 2 and err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith(f"rlspectral {argv[0]}: error: {flag}:"), err


def test_fit_k_flag_and_hidden_dim_alias():
    from rlspectral.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["fit", "--dim", "5"]).k == 5 and parser.parse_args(["fit", "--k", "6"]).k == 6
    assert parser.parse_args(["fit"]).k == GridFitConfig().k
    fit = next(a for a in parser._actions if a.dest == "command").choices["fit"]
    assert "--k K" in fit.format_help() and "--dim" not in fit.format_help()


def test_fit_steps_0_in_a_subprocess_exits_2_without_traceback():
    res = subprocess.run(
        [sys.executable, "-c", "import sys; from rlspectral.cli import main; sys.exit(main())", "fit", "--steps", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "--steps" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_fit_batch_too_small_for_the_objective_is_a_flag_error(tmp_path, capsys):
    argv = ["fit", "--batch-size", "1", "--steps", "5", "--episodes", "50", "--out", str(tmp_path), "--no-progress"]
    rc, err = run_cli(argv, capsys)
    assert rc == 2 and err.startswith("rlspectral fit: error: --batch-size=1:") and "\n" not in err, err
