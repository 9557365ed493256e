"""The wiring of one process: settings → store, publisher, intake. Nothing connects here;
the store and the broker are reached on first use."""

from __future__ import annotations

from dataclasses import dataclass

from predictq import retention
from predictq.completions.waiting import Completions
from predictq.intake import Intake
from predictq.messaging import Publisher
from predictq.settings import Settings
from predictq.store import Store, open_store
from predictq.streams.intake import ReadingsIntake


@dataclass
class Services:
    settings: Settings
    store: Store
    publisher: Publisher
    intake: Intake
    readings: ReadingsIntake
    completions: Completions

    @classmethod
    def build(cls, settings: Settings, store: Store | None = None,
              publisher: Publisher | None = None) -> Services:
        store = store or open_store(settings.resolved_store_url)
        retention.configure(settings, store)  # the keys this process stores expire
        publisher = publisher or Publisher(settings)
        return cls(settings, store, publisher, Intake(settings, store, publisher),
                   ReadingsIntake(settings, store, publisher), Completions(settings, store))

    def close(self) -> None:
        self.completions.close()
        self.intake.close()
        self.readings.close()
        self.publisher.close()
        self.store.close()
