"""The `anomaly` model: is a window of readings abnormal, and which points are.

data.py builds the committed labelled series, detector.py holds the estimator (a
library of normal subsequences with thresholds learned from normal data), train.py
fits and evaluates it, model.py validates events and predicts batches, baseline.py is
the rolling z-score it is compared with, evaluate.py writes MODEL_CARD.md.
"""
