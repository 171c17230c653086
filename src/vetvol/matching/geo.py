"""Great-circle geometry on plain numpy arrays: haversine, bounding boxes, km per degree, unit vectors.

The earth is the IUGG mean sphere (R = 6371.0088 km); against the WGS-84 ellipsoid the error is below
0.5 %, far inside what a dispatch radius or a travel estimate can resolve.

Distances that the engine compares for ranking are rounded to ``DISTANCE_DECIMALS`` (a millimetre):
numpy's vectorised ``sin``/``cos`` may differ in the last bit between a SIMD lane and a scalar tail, and a
ranking that must be identical whether it was computed over 30 candidates or over a million rows cannot
depend on that bit. A millimetre is far below any meaningful difference between two volunteers.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180.0  # ≈ 111.195 km along a meridian
DISTANCE_DECIMALS = 6  # km → millimetre resolution for every distance the engine ranks on

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def km_per_degree_lng(lat: float | FloatArray) -> float | FloatArray:
    """Kilometres per degree of longitude at latitude ``lat`` (0 at the poles)."""
    return KM_PER_DEGREE_LAT * np.cos(np.radians(lat))


def haversine_km(lat1: ArrayLike, lng1: ArrayLike, lat2: ArrayLike, lng2: ArrayLike) -> FloatArray:
    """Great-circle distance in km between points given in degrees; broadcasts like any numpy ufunc."""
    la1 = np.radians(np.asarray(lat1, dtype=np.float64))
    la2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dla = la2 - la1
    dlo = np.radians(np.asarray(lng2, dtype=np.float64) - np.asarray(lng1, dtype=np.float64))
    a = np.sin(dla * 0.5) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlo * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def rounded_km(km: FloatArray) -> FloatArray:
    """Distances rounded to the engine's ranking resolution (see the module docstring)."""
    return np.round(km, DISTANCE_DECIMALS)


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a box that contains every point within ``radius_km``.

    Exact for the latitude band; for longitude it uses the widest parallel the circle touches, so it is
    never too small. Near a pole (or for a radius that reaches one) the box spans all longitudes. A box that
    crosses the antimeridian returns min_lng > max_lng; callers that care test ``lng >= min or lng <= max``.
    """
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    # the circle's widest longitude extent (spherical formula): asin(sin(d) / cos(lat))
    ratio = math.sin(radius_km / EARTH_RADIUS_KM) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return min_lat, max_lat, -180.0, 180.0
    dlng = math.degrees(math.asin(ratio))
    min_lng, max_lng = lng - dlng, lng + dlng
    if min_lng < -180.0:
        min_lng += 360.0
    if max_lng > 180.0:
        max_lng -= 360.0
    return min_lat, max_lat, min_lng, max_lng


def unit_vectors(lat: ArrayLike, lng: ArrayLike) -> FloatArray:
    """Points on the unit sphere, shape (n, 3): the space the k-d tree indexes.

    The straight-line (chord) distance between two unit vectors is ``2·sin(θ/2)`` for the central angle
    θ, a strictly increasing function of the great-circle distance on [0, π]; nearest neighbours and
    radius queries by chord are therefore exact nearest neighbours and radius queries on the sphere.
    """
    la = np.radians(np.atleast_1d(np.asarray(lat, dtype=np.float64)))
    lo = np.radians(np.atleast_1d(np.asarray(lng, dtype=np.float64)))
    out = np.empty((la.shape[0], 3), dtype=np.float64)
    cos_la = np.cos(la)
    out[:, 0] = cos_la * np.cos(lo)
    out[:, 1] = cos_la * np.sin(lo)
    out[:, 2] = np.sin(la)
    return out


def chord_for_km(km: float) -> float:
    """Chord length on the unit sphere for a great-circle distance (km ≥ half the circumference → 2)."""
    theta = km / EARTH_RADIUS_KM
    if theta >= math.pi:
        return 2.0
    return 2.0 * math.sin(theta / 2.0)


def km_for_chord(chord: float) -> float:
    """Great-circle distance in km for a chord length on the unit sphere (inverse of ``chord_for_km``)."""
    if chord == math.inf:
        return math.inf
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(max(chord / 2.0, 0.0), 1.0))
