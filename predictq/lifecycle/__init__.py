"""The model lifecycle: which version serves and which shadows it, feedback on results,
live accuracy per version, evaluation, promotion and rollback, learning from feedback.

The store knows the decisions (predictq.store.models); the artifact folder holds the
bytes (models.artifacts); workers follow the store's decisions off the hot path
(predictq.lifecycle.serving).
"""
