"""Completions: an API process hears that a job became final the moment it is written,
so a client can wait for its result (`?wait=`, server-sent events) instead of polling.

Workers announce the jobs each batch finished; every API process listens and wakes the
requests waiting on those jobs (`waiters`). How the news travels (`feeds`): on RabbitMQ
a fanout exchange, one exclusive queue per API process, announced by the workers
(`announce`); on the embedded defaults, where there is no broker to fan out with, one
thread per API process reads the store's finished jobs after a cursor, only while some
request waits. Either way the cost is per completion, not per waiting client or per
poll of theirs. A missed announcement (a listener reconnecting) delays a waiter, never
misleads it: a waiter always reads the job from the store, and a reconnecting feed
wakes every waiter to read again.
"""
