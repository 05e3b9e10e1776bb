"""Agent recipes: SB3 algorithm + hyperparameters + spectral features / intrinsic bonus, per environment."""

from rlspectral.agents.recipes import RECIPES, recipe
from rlspectral.agents.train import train

__all__ = ["RECIPES", "recipe", "train"]
