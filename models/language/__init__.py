"""The `language` model: which language a text is written in.

languages.py the labels and their scripts; corpus.py (UDHR), cldr.py (CLDR, pinned npm
packages) and sources.py (pinned PyPI wheels) build the committed data; dataset.py
turns it into training units; pipeline.py the scikit-learn pipeline; calibration.py and
scripts.py make its probabilities honest; scoring.py is the one prediction path;
train.py fits and saves; model.py validates inputs and predicts batches; evaluate.py
(with baselines.py and card.py) writes MODEL_CARD.md. See data/PROVENANCE.md for where
every sentence comes from.
"""
