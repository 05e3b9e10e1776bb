"""A tqdm progress bar over environment steps (SB3's own bar needs ``rich``, which is not a dependency)."""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback
from tqdm.auto import tqdm


class ProgressBar(BaseCallback):
    """Advances by ``num_envs`` env steps per callback step; shows the last evaluation if one is given."""

    def __init__(self, total: int, desc: str = "train"):
        super().__init__()
        self.total, self.desc = int(total), desc
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, desc=self.desc, dynamic_ncols=True, unit="step")

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        return True

    def show(self, **values: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)

    def _on_training_end(self) -> None:
        self.bar.close()
