"""Builds the country boundaries the dashboards' map draws, shipped with the project (no internet needed).

    python scripts/build_boundaries.py COUNTRIES_110M_TOPOJSON ISO_CODES_JSON [OUTPUT]

COUNTRIES_110M_TOPOJSON is `countries-110m.json` of the npm package world-atlas 2.0.2 (Natural Earth 1:110m
admin 0 countries, public domain; the package is ISC-licensed); ISO_CODES_JSON is `codes.json` of the npm package
i18n-iso-countries (rows [alpha-2, alpha-3, numeric, ...]), read only to map ISO 3166-1 numeric ids to alpha-2.
OUTPUT defaults to static/vendor/boundaries/countries-110m.geojson: a GeoJSON FeatureCollection whose features
carry `iso_a2` (ISO 3166-1 alpha-2, "" when Natural Earth has no code) and `name` (Natural Earth's English name).

TopoJSON decoding: each arc is a list of quantized, delta-encoded positions; a position is the running sum of
the deltas, mapped back by the transform (x * scale + translate). A negative arc index ~i means arc i reversed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "static" / "vendor" / "boundaries" / "countries-110m.geojson"
# Natural Earth features without an ISO numeric id.
BY_NAME = {"Kosovo": "XK", "Somaliland": "SO", "N. Cyprus": "CY"}
DIGITS = 3  # about 100 m: more than the 1:110m source holds


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((round(x * scale[0] + translate[0], DIGITS), round(y * scale[1] + translate[1], DIGITS)))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[list[float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        # Consecutive arcs share their end and start point: keep it once.
        points.extend(arc if not points else arc[1:])
    return [list(point) for point in points]


def geometry(item: dict, arcs) -> dict | None:
    kind = item.get("type")
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r, arcs) for r in item["arcs"]]}
    if kind == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [[ring(r, arcs) for r in polygon] for polygon in item["arcs"]]}
    return None


def build(topology: dict, codes: list[list[str]]) -> dict:
    numeric_to_alpha2 = {row[2]: row[0] for row in codes}
    arcs = decode_arcs(topology)
    features = []
    for item in topology["objects"]["countries"]["geometries"]:
        shape = geometry(item, arcs)
        if shape is None:
            continue
        name = (item.get("properties") or {}).get("name", "")
        code = numeric_to_alpha2.get(str(item.get("id", "")), "") or BY_NAME.get(name, "")
        features.append({"type": "Feature", "properties": {"iso_a2": code, "name": name}, "geometry": shape})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    codes = json.loads(Path(argv[2]).read_text(encoding="utf-8"))
    output = Path(argv[3]) if len(argv) == 4 else DEFAULT_OUTPUT
    collection = build(topology, codes)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    coded = sum(1 for feature in collection["features"] if feature["properties"]["iso_a2"])
    print(f"{len(collection['features'])} countries ({coded} with an alpha-2 code) written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
