"""Which kombu transport should the embedded default be? Measured, not guessed.

Candidates are kombu's own server-less transports that work between processes and keep
messages across a restart: the file-system transport (as predictq uses it: atomic
writes + fsync) and SQLAlchemy on a SQLite file. For each: a producer process publishes
N persistent JSON messages, then a separate consumer process (a "restart": nothing is
shared but the files) consumes and acks them. Prints a Markdown table.

    python loadtest/embedded_transport_bench.py [--messages 2000]

Needs SQLAlchemy for the second candidate (`pip install sqlalchemy`); it is not a
runtime dependency of predictq.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

from kombu import Connection, Consumer, Producer

from predictq.messaging import connect, queue_for
from predictq.settings import Settings


def _filesystem(folder: Path) -> tuple[Settings, Connection]:
    settings = Settings(data_dir=folder, queue_prefix="bench", poll_interval_ms=10)
    return settings, connect(settings)


def _sqlalchemy(folder: Path) -> tuple[Settings, Connection]:
    settings = Settings(data_dir=folder, queue_prefix="bench")
    url = f"sqla+sqlite:///{folder / 'broker.db'}"
    return settings, Connection(url)  # its transport options go to create_engine()


CANDIDATES = {"filesystem (atomic + fsync)": _filesystem, "sqlalchemy + sqlite": _sqlalchemy}


def produce(kind: str, folder: str, n: int, out: mp.Queue) -> None:
    settings, conn = CANDIDATES[kind](Path(folder))
    queue = queue_for(settings, "text")
    body = {"tracking_id": "x" * 22, "model": "language",
            "input": {"text": "Jag tycker om att läsa böcker på kvällarna."}}
    with conn:
        producer = Producer(conn.channel())
        start = time.perf_counter()
        for _ in range(n):
            producer.publish(body, exchange=queue.exchange, routing_key="text",
                             serializer="json", delivery_mode=2, declare=[queue])
        out.put(time.perf_counter() - start)


def consume(kind: str, folder: str, n: int, out: mp.Queue) -> None:
    settings, conn = CANDIDATES[kind](Path(folder))
    got = 0

    def on_message(body, message) -> None:
        nonlocal got
        got += 1
        message.ack()

    with conn:
        channel = conn.channel()
        channel.basic_qos(0, 64, False)
        with Consumer(channel, [queue_for(settings, "text")], callbacks=[on_message],
                      accept=["json"]):
            start = time.perf_counter()
            while got < n:
                try:
                    conn.drain_events(timeout=5)
                except TimeoutError:
                    break
            out.put((got, time.perf_counter() - start))


def run(kind: str, n: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    with tempfile.TemporaryDirectory() as folder:
        p = ctx.Process(target=produce, args=(kind, folder, n, out))
        p.start()
        p.join()
        publish_s = out.get()
        c = ctx.Process(target=consume, args=(kind, folder, n, out))
        c.start()
        c.join()
        got, consume_s = out.get()
    return {"publish_per_s": n / publish_s, "consume_per_s": got / consume_s,
            "survived_restart": got == n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    print(f"| transport | publish msg/s | consume+ack msg/s | all {args.messages} "
          "survived a restart |")
    print("| --- | ---: | ---: | --- |")
    for kind in CANDIDATES:
        r = run(kind, args.messages)
        print(f"| {kind} | {r['publish_per_s']:,.0f} | {r['consume_per_s']:,.0f} | "
              f"{'yes' if r['survived_restart'] else 'no'} |")


if __name__ == "__main__":
    main()
