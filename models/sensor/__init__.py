"""What the sensor models share: the sensor event schema and the pinned-wheel reader.

`schema.py` validates events for both `appliance` and `anomaly`; `wheels.py` is used only
by the data build scripts (`python -m models.<name>.data build`), never at run time.
"""
