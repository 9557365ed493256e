"""Machine learning only: pipelines, training, the registry of named models, artifacts.

Nothing here imports Flask, kombu or `predictq`: the API and the workers depend on this
package, never the other way round.
"""
