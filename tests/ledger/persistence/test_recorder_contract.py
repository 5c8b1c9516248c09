"""The eventsourcing library's recorder contract suites, run on our recorders.

Each suite runs once on SQLite (a file in a temporary directory) and once on
PostgreSQL (a fresh schema), selectable with `-k sqlite` / `-k postgres`.
"""

from __future__ import annotations

import tempfile
from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.tests import persistence as contract
from eventsourcing.utils import Environment
from sqlalchemy import Engine

from ledger.persistence.engine import dispose_engines, get_engine
from ledger.persistence.factory import Factory
from ledger.persistence.recorders import (
    SqlAggregateRecorder,
    SqlApplicationRecorder,
    SqlProcessRecorder,
    SqlSnapshotRecorder,
    SqlTrackingRecorder,
)
from ledger.persistence.schema import create_schema
from tests.support import pg

# -- Backends: each test gets a database of its own, created in setUp, dropped in tearDown.


class SqliteBackend:
    """Gives each test its own SQLite file."""

    url: str

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="seatledger-contract-")
        self.url = f"sqlite:///{self._tmp.name}/contract.db"
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        dispose_engines()
        self._tmp.cleanup()

    def engine(self) -> Engine:
        engine = get_engine(self.url)
        create_schema(engine)
        return engine


class PostgresBackend:
    """Gives each test its own fresh schema on the session's PostgreSQL server."""

    url: str

    def setUp(self) -> None:
        self._server_url = pg.server_url()  # raises (never skips) if there is none
        self._schema, self.url = pg.create_test_schema(self._server_url)
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        try:
            super().tearDown()  # type: ignore[misc]
        finally:
            dispose_engines()
            pg.drop_test_schema(self._server_url, self._schema)
            dispose_engines()

    def engine(self) -> Engine:
        engine = get_engine(self.url)
        create_schema(engine)
        return engine


# -- What each suite runs against.


class EventsAggregateRecorder:
    def create_recorder(self) -> AggregateRecorder:
        return SqlAggregateRecorder(self.engine())  # type: ignore[attr-defined]


class SnapshotsAggregateRecorder:
    def create_recorder(self) -> AggregateRecorder:
        return SqlSnapshotRecorder(self.engine())  # type: ignore[attr-defined]


class ApplicationRecorderUnderTest:
    def create_recorder(self) -> ApplicationRecorder:
        return SqlApplicationRecorder(self.engine())  # type: ignore[attr-defined]


class SubscribingApplicationRecorder(ApplicationRecorderUnderTest):
    def test_insert_subscribe(self) -> None:
        # The suite leaves subscriptions optional; ours polls, so run it.
        self.optional_test_insert_subscribe()  # type: ignore[attr-defined]


class TrackingRecorderUnderTest:
    def create_recorder(self) -> TrackingRecorder:
        return SqlTrackingRecorder(self.engine())  # type: ignore[attr-defined]


class ProcessRecorderUnderTest:
    def create_recorder(self) -> ProcessRecorder:
        return SqlProcessRecorder(self.engine())  # type: ignore[attr-defined]


class CustomTrackingRecorder(SqlTrackingRecorder):
    """A subclass the factory suite asks the factory to build by class and by topic."""


class FactoryUnderTest:
    url: str
    env: Environment

    def setUp(self) -> None:
        self.env = Environment(
            env={"PERSISTENCE_MODULE": "ledger.persistence.factory", "SEATLEDGER_DB_URL": self.url}
        )
        super().setUp()  # type: ignore[misc]

    def expected_factory_class(self) -> type[Factory]:
        return Factory

    def expected_aggregate_recorder_class(self) -> type[Any]:
        return SqlAggregateRecorder

    def expected_application_recorder_class(self) -> type[Any]:
        return SqlApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[Any]:
        return SqlTrackingRecorder

    def tracking_recorder_subclass(self) -> type[Any]:
        return CustomTrackingRecorder

    def expected_process_recorder_class(self) -> type[Any]:
        return SqlProcessRecorder


# -- SQLite.


class TestSqliteAggregateRecorder(
    SqliteBackend, EventsAggregateRecorder, contract.AggregateRecorderTestCase
):
    pass


class TestSqliteSnapshotRecorder(
    SqliteBackend, SnapshotsAggregateRecorder, contract.AggregateRecorderTestCase
):
    pass


class TestSqliteApplicationRecorder(
    SqliteBackend, SubscribingApplicationRecorder, contract.ApplicationRecorderTestCase
):
    pass


class TestSqliteNonInterleavingNotificationIds(
    SqliteBackend, ApplicationRecorderUnderTest, contract.NonInterleavingNotificationIDsBaseCase
):
    pass


class TestSqliteTrackingRecorder(
    SqliteBackend, TrackingRecorderUnderTest, contract.TrackingRecorderTestCase
):
    pass


class TestSqliteProcessRecorder(
    SqliteBackend, ProcessRecorderUnderTest, contract.ProcessRecorderTestCase
):
    pass


class TestSqliteFactory(SqliteBackend, FactoryUnderTest, contract.InfrastructureFactoryTestCase):
    pass


# -- PostgreSQL.


class TestPostgresAggregateRecorder(
    PostgresBackend, EventsAggregateRecorder, contract.AggregateRecorderTestCase
):
    pass


class TestPostgresSnapshotRecorder(
    PostgresBackend, SnapshotsAggregateRecorder, contract.AggregateRecorderTestCase
):
    pass


class TestPostgresApplicationRecorder(
    PostgresBackend, SubscribingApplicationRecorder, contract.ApplicationRecorderTestCase
):
    pass


class TestPostgresNonInterleavingNotificationIds(
    PostgresBackend, ApplicationRecorderUnderTest, contract.NonInterleavingNotificationIDsBaseCase
):
    pass


class TestPostgresTrackingRecorder(
    PostgresBackend, TrackingRecorderUnderTest, contract.TrackingRecorderTestCase
):
    pass


class TestPostgresProcessRecorder(
    PostgresBackend, ProcessRecorderUnderTest, contract.ProcessRecorderTestCase
):
    pass


class TestPostgresFactory(
    PostgresBackend, FactoryUnderTest, contract.InfrastructureFactoryTestCase
):
    pass
