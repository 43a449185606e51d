"""GCJ-02 ("Mars coordinates"), the obfuscated datum of Chinese web maps, to and from WGS-84.

Amap (高德), Tencent and most Chinese map data are published in GCJ-02, which shifts a WGS-84 position by a
smooth, position-dependent offset of a few hundred metres. The forward transform (WGS-84 → GCJ-02) is public;
there is no closed-form inverse, so ``gcj02_to_wgs84`` inverts it by fixed-point iteration, which converges to
well under a millimetre in a handful of steps because the offset changes very slowly with position.

Pure functions of floats; ``(lon, lat)`` order throughout, as in GeoJSON.
"""

from __future__ import annotations

import math

# Krasovsky 1940, the ellipsoid the GCJ-02 algorithm was defined on.
_A = 6378245.0
_EE = 0.00669342162296594323

# Stop when a further step moves the estimate by less than this (degrees; 1e-10 deg is ~0.01 mm).
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30


def out_of_china(lon: float, lat: float) -> bool:
    """Whether the position is outside the rough box where GCJ-02 applies (there it equals WGS-84)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """The (dlon, dlat) in degrees that GCJ-02 adds to a WGS-84 position."""
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 position of a WGS-84 ``(lon, lat)`` (unchanged outside China)."""
    if out_of_china(lon, lat):
        return lon, lat
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """The WGS-84 position whose GCJ-02 transform is ``(lon, lat)``, by fixed-point iteration.

    Start from the GCJ-02 position itself and repeatedly correct the estimate by the error of its forward
    transform; the offset's gradient is tiny (~1e-5), so each step gains about five decimal digits.
    """
    if out_of_china(lon, lat):
        return lon, lat
    wgs_lon, wgs_lat = lon, lat
    for _ in range(_MAX_ITERATIONS):
        fwd_lon, fwd_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        err_lon, err_lat = fwd_lon - lon, fwd_lat - lat
        wgs_lon -= err_lon
        wgs_lat -= err_lat
        if abs(err_lon) < _TOLERANCE_DEG and abs(err_lat) < _TOLERANCE_DEG:
            break
    return wgs_lon, wgs_lat
