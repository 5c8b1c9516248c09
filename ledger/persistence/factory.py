"""The eventsourcing infrastructure factory: set PERSISTENCE_MODULE=ledger.persistence.factory."""

from __future__ import annotations

from typing import cast

from eventsourcing.persistence import (
    AggregateRecorder,
    InfrastructureFactory,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic, strtobool

from ledger.persistence.engine import DEFAULT_DB_URL, get_engine
from ledger.persistence.recorders import (
    SqlAggregateRecorder,
    SqlApplicationRecorder,
    SqlProcessRecorder,
    SqlTrackingRecorder,
)
from ledger.persistence.schema import TABLES, create_schema
from ledger.persistence.snapshots import SealedSnapshotRecorder


class Factory(InfrastructureFactory[SqlTrackingRecorder]):
    """Builds the ledger's recorders on the database named by SEATLEDGER_DB_URL."""

    DB_URL = "SEATLEDGER_DB_URL"
    CREATE_TABLE = "CREATE_TABLE"

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.engine = get_engine(self.env.get(self.DB_URL) or DEFAULT_DB_URL)
        self.tables = TABLES
        if strtobool(self.env.get(self.CREATE_TABLE) or "yes"):
            create_schema(self.engine, self.tables)

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        """Build the snapshots recorder (purpose "snapshots") or the events recorder."""
        if purpose == "snapshots":
            return SealedSnapshotRecorder(self.engine, self.tables)
        return SqlAggregateRecorder(self.engine, self.tables)

    def application_recorder(self) -> SqlApplicationRecorder:
        """Build the recorder of the ledger's application sequence."""
        return SqlApplicationRecorder(self.engine, self.tables)

    def tracking_recorder(
        self, tracking_recorder_class: type[SqlTrackingRecorder] | None = None
    ) -> SqlTrackingRecorder:
        """Build a tracking recorder, of the given class or TRACKING_RECORDER_TOPIC's."""
        cls = tracking_recorder_class
        if cls is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            cls = (
                cast("type[SqlTrackingRecorder]", resolve_topic(topic))
                if topic
                else SqlTrackingRecorder
            )
        if not issubclass(cls, SqlTrackingRecorder):
            msg = f"{cls!r} is not a SqlTrackingRecorder"
            raise TypeError(msg)
        return cls(self.engine, self.tables)

    def process_recorder(self) -> SqlProcessRecorder:
        """Build the recorder that writes events and tracking together."""
        return SqlProcessRecorder(self.engine, self.tables)
