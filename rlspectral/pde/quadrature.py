"""Quadrature in polar (2D) and spherical (3D) coordinates for the metrics: ``int g dx ~ sum_i w_i g(x_i)``.

Radii: composite Gauss-Legendre on geometrically growing panels of [0, r_max] (dense near the nucleus, where a
Coulomb eigenfunction has its cusp; the cusp is a kink in x but smooth in r). Angles: the trapezoid rule in the
azimuth (spectrally accurate for periodic functions) and Gauss-Legendre in cos(theta) (3D). The metrics integrate
learned and exact functions on these nodes; Monte Carlo is only used for training.
"""

from __future__ import annotations

import math

import numpy as np


def radial_rule(r_max: float, panels: int = 24, order: int = 16, first: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of composite Gauss-Legendre on [0, r_max], panel edges geometric from ``first * r_max``."""
    edges = np.concatenate([[0.0], np.geomspace(first * r_max, r_max, panels)])
    t, w = np.polynomial.legendre.leggauss(order)
    r = np.concatenate([(a + b) / 2 + (b - a) / 2 * t for a, b in zip(edges[:-1], edges[1:])])
    wr = np.concatenate([(b - a) / 2 * w for a, b in zip(edges[:-1], edges[1:])])
    return r, wr


def spherical_rule(
    dim: int, r_max: float, panels: int = 24, order: int = 16, angles: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``x [N, dim]`` and weights ``w [N]`` (with the Jacobian r^(dim-1)) covering the ball of radius r_max;
    ``angles`` azimuthal nodes (3D: ``angles // 2`` Gauss-Legendre nodes in cos(theta))."""
    r, wr = radial_rule(r_max, panels, order)
    phi = 2 * math.pi * np.arange(angles) / angles
    wphi = np.full(angles, 2 * math.pi / angles)
    if dim == 2:
        R, P = np.meshgrid(r, phi, indexing="ij")
        W = np.outer(wr * r, wphi)
        return np.stack([R * np.cos(P), R * np.sin(P)], -1).reshape(-1, 2), W.reshape(-1)
    ct, wct = np.polynomial.legendre.leggauss(max(2, angles // 2))
    R, C, P = np.meshgrid(r, ct, phi, indexing="ij")
    S = np.sqrt(1 - C * C)
    W = (wr * r * r)[:, None, None] * wct[None, :, None] * wphi[None, None, :]
    x = np.stack([R * S * np.cos(P), R * S * np.sin(P), R * C], -1)
    return x.reshape(-1, 3), W.reshape(-1)
