"""Writes the runnable drift example's small CSVs (fixed seed): `python examples/drift/make_data.py`.

reference.csv: 500 rows of age ~ N(40, 5), plan in {basic, pro, team}, income ~ N(50000, 8000).
current_same.csv: 500 new rows drawn the same way (no drift expected).
current_shifted.csv: 500 rows with age ~ N(48, 5) (1.6 standard deviations up) and plan mostly "team".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent / "data"
N = 500


def draw(rng: np.random.Generator, age_mean: float, plan_p: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.normal(age_mean, 5, N).round(1),
            "plan": rng.choice(["basic", "pro", "team"], N, p=plan_p),
            "income": rng.normal(50_000, 8_000, N).round(0),
        }
    )


def main() -> None:
    rng = np.random.default_rng(3)
    HERE.mkdir(exist_ok=True)
    even = [0.5, 0.3, 0.2]
    draw(rng, 40, even).to_csv(HERE / "reference.csv", index=False)
    draw(rng, 40, even).to_csv(HERE / "current_same.csv", index=False)
    draw(rng, 48, [0.2, 0.2, 0.6]).to_csv(HERE / "current_shifted.csv", index=False)


if __name__ == "__main__":
    main()
