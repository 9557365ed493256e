"""River's HalfSpaceTrees as the streaming references configure it: evaluation only.

`compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.QuantileFilter(
anomaly.HalfSpaceTrees(seed=42), q=Q))` — River's own QuantileFilter example, with the
tree defaults (10 trees, height 8, window 250) and one feature, the reading. q = 0.995
(River's test parameter for QuantileFilter) rather than the example's 0.95, which
would flag one reading in twenty. Its trees (thousands of nodes) do not fit a small
JSON checkpoint, so it is not offered to StreamModel.
"""

from __future__ import annotations

from river import anomaly, compose, preprocessing

Q = 0.995


class RiverHST:
    name = "river-hst"
    version = "river-0.26.1"

    def __init__(self, q: float = Q) -> None:
        self.model = compose.Pipeline(
            preprocessing.MinMaxScaler(),
            anomaly.QuantileFilter(anomaly.HalfSpaceTrees(seed=42), q=q),
        )
        self.filter = self.model["QuantileFilter"]

    def update(self, x: float) -> tuple[float, bool]:
        features = {"x": x}
        score = self.model.score_one(features)
        flag = bool(self.filter.classify(score))
        self.model.learn_one(features)
        return float(score), flag
