"""The `appliance` model: which kind of appliance drew a window of power readings.

data.py builds the committed ACSF1 data, features.py holds the transformers that turn
raw readings into features inside the pipeline, pipeline.py builds it, train.py fits and
evaluates it, model.py validates events and predicts batches, baselines.py and
evaluate.py produce the figures of MODEL_CARD.md.
"""
