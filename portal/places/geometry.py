"""Distances on the earth, for every feature that places things: nearest shelters, CAP circles,
plow speeds and passes. A sphere of the earth's mean radius (IUGG): at a city's scale it errs
by metres."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """The great-circle (haversine) distance between two points, in metres."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(lon_b - lon_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_km(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    return distance_m(lat_a, lon_a, lat_b, lon_b) / 1000


def distances_m(
    latitude: float,
    longitude: float,
    latitudes: NDArray[np.float64],
    longitudes: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Great-circle distances from one point to many, in metres, as one array operation."""
    phi = math.radians(latitude)
    phis = np.radians(latitudes)
    d_phi = phis - phi
    d_lambda = np.radians(longitudes - longitude)
    h = np.sin(d_phi / 2) ** 2 + math.cos(phi) * np.cos(phis) * np.sin(d_lambda / 2) ** 2
    metres: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return metres
