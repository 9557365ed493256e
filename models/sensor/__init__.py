"""What the sensor models share: the sensor event schema (`schema.py`), which validates
events for both `appliance` and `anomaly`."""
