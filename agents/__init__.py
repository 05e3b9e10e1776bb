"""Agent recipes: SB3 algorithm + hyperparameters + spectral features / intrinsic bonus, per environment."""

from rlspectral.agents.recipes import RECIPES, recipe
from rlspectral.agents.train import add_train_arguments, run_train, train

__all__ = ["RECIPES", "add_train_arguments", "recipe", "run_train", "train"]
