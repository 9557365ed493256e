"""The `language` model: which language a text is written in.

corpus.py builds the committed UDHR corpus, pipeline.py the scikit-learn pipeline,
train.py fits and evaluates it, model.py validates inputs and predicts batches.
"""
