"""Alerts on the service itself: rules evaluated continuously over what predictq
already measures (queue depth, consumers, oldest waiting age, dead letters, store and
broker reachability), opened and resolved in the store, and sent to a webhook.

- `rules`: the rules from settings, and the pure step from one observation to the next
  alert states (open after T seconds, resolve, never open twice for one episode);
- `observe`: what the rules look at, read from the broker and the store;
- `monitor`: the loop step every worker's sweeper runs (one evaluation per interval
  across the fleet, by a store lease), and the store-down alert kept in memory;
- `delivery`: the webhook outbox, delivered by predictq.streams.webhook's deliverer.
"""
