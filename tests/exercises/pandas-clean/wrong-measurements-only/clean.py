"""Clean the Palmer penguins for a model (MLOps Lab exercise pandas-clean).

The lab runs:  python clean.py data/penguins.csv penguins_clean.csv
Written for pandas 3.1.1. README.md has the task; fill in the three TODOs.
"""

import sys

import pandas as pd


def load(path: str) -> pd.DataFrame:
    # The file writes a missing value as "NA", which pandas reads as missing.
    return pd.read_csv(path)


def drop_missing(df: pd.DataFrame) -> pd.DataFrame:
    """TODO 1: drop every row that has a missing value, in any column."""
    measurements = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    return df.dropna(subset=measurements)


def fix_types(df: pd.DataFrame) -> pd.DataFrame:
    """TODO 2: flipper_length_mm and body_mass_g hold whole numbers, but pandas
    read them as float64 (a missing value is NaN, which is a float). Once the
    missing rows are gone, make them int64."""
    return df.astype({"flipper_length_mm": "int64", "body_mass_g": "int64"})


def encode(df: pd.DataFrame) -> pd.DataFrame:
    """TODO 3: one-hot encode `island`: columns island_Biscoe, island_Dream and
    island_Torgersen holding 0 or 1 (integers, not True/False), and no
    `island` column left."""
    return pd.get_dummies(df, columns=["island"], dtype=int)


def main(src: str = "data/penguins.csv", dst: str = "penguins_clean.csv") -> None:
    df = encode(fix_types(drop_missing(load(src))))
    df.to_csv(dst, index=False)
    print(f"wrote {len(df)} rows and {len(df.columns)} columns to {dst}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
