"""Export: rebuild a timeline document (`@1`, or `@2` when @2 fields are used) from the log.

Negotiations come from their opening events, moves with their ids and fields as first
recorded and corrections as `correction` moves, all in recording order; the alliance block
comes from its forming event and the parties from the roster. A file that holds a correction
says `order: recorded`, so that import takes its moves in that order, as the ledger first
took them (by date, a corrected move's first form could meet a fact recorded after it but
dated before it). Copies of alliance moves mirrored into each negotiation are left out:
importing the alliance's move makes them again. The document imports into an empty ledger
with the same splits, history and roll-up on every date (as known now). A ledger whose talks
sit in several alliances, or some in none, is written with `alliances:`, each talk and
alliance-level move naming its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import orjson
import yaml

from ledger.application import NegotiationLedger
from ledger.domain import moves as k
from ledger.domain.alliance import AllianceFormed, PartiesRegistered, TalksRegistered
from ledger.domain.errors import NotFoundError
from ledger.domain.events import (
    AllianceMembershipMirrored,
    LedgerEvent,
    MoveCorrected,
    MoveEvent,
    NegotiationOpened,
)
from ledger.inert import UNSAFE_IN_DOCUMENTS, json_inert
from ledger.timeline.document import FORMAT, FORMAT_2, written_split
from ledger.timeline.export_order import RecordingOrder
from ledger.timeline.items import ORDER_RECORDED

ExportFormat = Literal["yaml", "json"]
PAGE = 1000
_MOVE_BASE = {
    "originator_id", "originator_version", "timestamp", "recorded_by",
    "move_id", "occurred_on", "source", "note", "confidence",
}  # fmt: skip
_FLOW_KEYS = {"split", "parties", "members", "signatories", "named", "names", "constituencies"}
_SEAT_LEVEL_MOVES = {"partial_agreement", "constituencies_added"}


@dataclass
class _Log:
    """What the event log holds, gathered in one pass in recording order."""

    alliances: dict[str, dict[str, Any]] = field(default_factory=dict)
    negotiations: dict[str, dict[str, Any]] = field(default_factory=dict)
    alliance_of: dict[str, str | None] = field(default_factory=dict)
    owners: dict[UUID, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, slug)
    moves: list[tuple[tuple[str, str], dict[str, Any]]] = field(default_factory=list)  # and
    # corrections, in the log's order (an item's place in it is its node in `order`)
    order: RecordingOrder = field(default_factory=RecordingOrder)
    alliance_items: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # id ->
    # (node, the kind of move it is or corrects)


def export_timeline(
    app: NegotiationLedger,
    negotiations: Sequence[str] | None = None,
    *,
    election: str | None = None,
    alliance: str | None = None,
) -> dict[str, Any]:
    """The timeline document of the whole ledger, or of some negotiations (and their alliance).

    `election` and `alliance` keep only the talks of that election or alliance.
    """
    log = _read_log(app)
    chosen = list(log.negotiations) if not negotiations else list(dict.fromkeys(negotiations))
    for slug in chosen:
        if slug not in log.negotiations:
            raise NotFoundError(f"no negotiation {slug!r} in this ledger")
    scoped = election is not None or alliance is not None
    if scoped:
        chosen = _in_scope(log, chosen, election, alliance)
        negotiations = chosen
    alliances = _alliances_for(log, chosen, whole_ledger=not negotiations)
    # One alliance that every talk belongs to: the contract's `alliance:`, as files were
    # always written. Otherwise `alliances:`, and each talk and alliance move names its own.
    several = len(alliances) > 1 or any(log.alliance_of[slug] is None for slug in chosen)
    keep = {("negotiation", slug) for slug in chosen}
    keep.update(("alliance", slug) for slug in alliances)
    document: dict[str, Any] = {"format": FORMAT}
    if alliances and several:
        document["alliances"] = [log.alliances[slug] for slug in alliances]
    elif alliances:
        document["alliance"] = log.alliances[alliances[0]]
    roster = app.roster()
    document["parties"] = [
        _drop_empty({"code": code, "name": name, "colour": roster.colours.get(code)})
        for code, name in roster.parties.items()
    ]
    document["negotiations"] = [
        _drop_empty({**log.negotiations[slug], "alliance": log.alliance_of[slug]})
        if several
        else log.negotiations[slug]
        for slug in chosen
    ]
    kept = [node for node, (owner, _) in enumerate(log.moves) if owner in keep]
    corrections = [node for node in kept if log.moves[node][1]["type"] == "correction"]
    merged = log.order.order(kept) if corrections else None
    if merged is not None:
        # A corrected move is checked on import as it was first recorded: in recording order.
        document = {"format": document.pop("format"), "order": ORDER_RECORDED, **document}
    else:  # none, or no order agrees with every aggregate's: by date, corrections last
        moves = set(kept).difference(corrections)
        merged = [node for node in kept if node in moves] + corrections
    document["moves"] = [
        _with_alliance(move, owner[1]) if several and owner[0] == "alliance" else move
        for owner, move in (log.moves[node] for node in merged)
    ]
    if _uses_format_2(document):
        document["format"] = FORMAT_2
    return document


def _in_scope(
    log: _Log, chosen: list[str], election: str | None, alliance: str | None
) -> list[str]:
    """The chosen talks of one election and/or alliance; NotFoundError if there are none."""
    kept = [
        slug
        for slug in chosen
        if (election is None or log.negotiations[slug].get("election", "") == election)
        and (alliance is None or log.alliance_of[slug] == alliance)
    ]
    if not kept:
        scope = " and ".join(
            f"{what} {value!r}"
            for what, value in (("election", election), ("alliance", alliance))
            if value is not None
        )
        raise NotFoundError(f"no negotiation of {scope} in this ledger")
    return kept


def _uses_format_2(document: dict[str, Any]) -> bool:
    """True if the document holds a `seatledger/timeline@2` field (as timeline.uses_format_2)."""
    return any(
        "election" in neg or "constituencies" in neg for neg in document["negotiations"]
    ) or any(
        (move.get("type") == "amendment" and "signatories" in move)
        or move.get("type") in _SEAT_LEVEL_MOVES
        or any(type(share) is not int for share in (move.get("split") or {}).values())
        for move in document["moves"]
    )


def _alliances_for(log: _Log, chosen: list[str], *, whole_ledger: bool) -> list[str]:
    """The alliances to export: every one for the whole ledger, else those of the chosen talks."""
    if whole_ledger:
        return list(log.alliances)
    found = {log.alliance_of[slug] for slug in chosen}
    return [slug for slug in log.alliances if slug in found]


def _with_alliance(move: dict[str, Any], alliance: str) -> dict[str, Any]:
    """An alliance-level move that names its alliance (after its id, as people write it)."""
    if move.get("type") == "correction":
        return move  # a correction finds its move by id
    return {"id": move["id"], "alliance": alliance, **move}


def _read_log(app: NegotiationLedger) -> _Log:
    log = _Log()
    for event in _events(app):
        owner = log.owners.get(event.originator_id)
        if isinstance(event, AllianceFormed):
            log.owners[event.originator_id] = ("alliance", event.alliance)
            log.alliances[event.alliance] = _drop_empty(
                {"id": event.alliance, "name": event.name, "members": list(event.members),
                 "formed_on": event.occurred_on}
            )  # fmt: skip
        elif isinstance(event, NegotiationOpened):
            log.owners[event.originator_id] = ("negotiation", event.negotiation)
            log.order.opened(event.negotiation, event.alliance, len(log.moves))
            log.alliance_of[event.negotiation] = event.alliance
            log.negotiations[event.negotiation] = _drop_empty(
                {"id": event.negotiation, "title": event.title, "region": event.region,
                 "seats": event.seats, "parties": list(event.parties),
                 "opened_on": event.occurred_on, "source": event.source, "note": event.note,
                 "election": event.election, "constituencies": list(event.constituencies)}
            )  # fmt: skip
        elif isinstance(event, AllianceMembershipMirrored):
            _copied(log, owner, event.mirror_of)  # the talks' copy of an alliance move
        elif isinstance(event, PartiesRegistered | TalksRegistered):
            continue  # made again on import (talks) or read from the roster (parties)
        elif owner is None:
            continue  # an aggregate this export does not know (none today)
        elif isinstance(event, MoveCorrected):
            if event.mirror:  # the talks' copy of the alliance's correction
                _copied(log, owner, event.move_id.removesuffix(f"@{owner[1]}"))
            else:
                _add(log, owner, event.move_id, _correction(event, owner), None)
        elif isinstance(event, MoveEvent):
            _add(log, owner, event.move_id, _move(event, owner), event.kind)
    return log


def _add(
    log: _Log, owner: tuple[str, str], move_id: str, move: dict[str, Any], kind: str | None
) -> None:
    """Keep a move (or, kind None, a correction) and its place in its aggregate's sequence."""
    node = len(log.moves)
    log.moves.append((owner, move))
    if owner[0] == "negotiation":
        log.order.talks_item(owner[1], node)
        return
    if kind is None:  # a correction: copied into the talks if the move it corrects is
        kind = log.alliance_items.get(move["of"], (node, None))[1]
    log.alliance_items[move_id] = (node, kind)
    log.order.alliance_item(owner[1], node, kind in k.ALLIANCE_MEMBERSHIP)


def _copied(log: _Log, owner: tuple[str, str] | None, alliance_item: str) -> None:
    """Talks took their copy of an alliance's move or correction here, among their own."""
    if owner is not None and alliance_item in log.alliance_items:
        log.order.copy(owner[1], log.alliance_items[alliance_item][0])


def _events(app: NegotiationLedger) -> Iterator[LedgerEvent]:
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(start, PAGE)
        if not page:
            return
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, LedgerEvent):
                yield event
        start = page[-1].id + 1


def _move(event: MoveEvent, owner: tuple[str, str]) -> dict[str, Any]:
    move: dict[str, Any] = {"id": event.move_id}
    if owner[0] == "negotiation":
        move["negotiation"] = owner[1]
    move["type"] = event.kind
    move["on"] = event.occurred_on
    move.update(event.model_dump(exclude=_MOVE_BASE))
    if "split" in move:
        move["split"] = written_split(move["split"], move.pop("named", None))
    move["source"] = event.source
    move["note"] = event.note
    if event.confidence != "confirmed":
        move["confidence"] = event.confidence
    return _drop_empty(move)


def _correction(event: MoveCorrected, owner: tuple[str, str]) -> dict[str, Any]:
    move: dict[str, Any] = {"id": event.move_id}
    if owner[0] == "negotiation":
        move["negotiation"] = owner[1]
    move.update({"type": "correction", "of": event.of})
    if event.retract:
        move["retract"] = True
    else:
        move.update(event.changes.model_dump(exclude_none=True))
        if "split" in move:
            move["split"] = written_split(move["split"], move.pop("named", None))
        move.pop("named", None)
    move["reason"] = event.reason
    return _drop_empty(move)


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != [] and v != ""}


# -- writing -----------------------------------------------------------------


class _Flow(dict[str, Any]):
    """A mapping written on one line: split: {SP: 63, INC: 17}."""


class _FlowList(list[Any]):
    """A list written on one line: parties: [SP, INC]."""


class _Dumper(yaml.SafeDumper):
    """Safe YAML; PyYAML quotes the key 'on' (YAML 1.1 would read it as true)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Double quotes when the text holds control or bidi characters: there, PyYAML escapes
    # what it deems unprintable and `json_inert` escapes the rest, and both read back exactly.
    style = '"' if UNSAFE_IN_DOCUMENTS.search(value) else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.Node:
    # An ISO string with its offset ('T' separator), as the format documents it.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.isoformat())


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(datetime, _represent_datetime)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def _flowing(value: Any, key: str | None = None) -> Any:
    """Short lists and maps of scalars (splits, party lists) on one line, as people write them."""
    if isinstance(value, dict):
        if key in _FLOW_KEYS and all(_scalar(v) for v in value.values()):
            return _Flow(value)
        if key == "split":  # named shares: each party's names on one line
            return {k: _flowing(v, "named") for k, v in value.items()}
        return {k: _flowing(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in _FLOW_KEYS and all(_scalar(v) for v in value):
            return _FlowList(value)
        return [_flowing(v) for v in value]
    return value


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def dump_timeline(document: dict[str, Any], fmt: ExportFormat = "yaml") -> str:
    """The document as YAML (dates plain, 'on' quoted) or as JSON (dates as ISO strings).

    Either way no control or bidi character is left raw (a file may be shown on a terminal).
    """
    if fmt == "json":
        return json_inert(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()) + "\n"
    header = f"# {document['format']}, exported from the event log: seatledger import FILE\n"
    body = yaml.dump(
        _flowing(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return header + json_inert(body)


def format_for(path: Path | None, fmt: ExportFormat | None = None) -> ExportFormat:
    """The format asked for, else JSON for a .json file, else YAML."""
    if fmt is not None:
        return fmt
    return "json" if path is not None and path.suffix.lower() == ".json" else "yaml"


def write_timeline(document: dict[str, Any], path: Path, fmt: ExportFormat | None = None) -> None:
    """Write the document to a file, in the format its name asks for."""
    path.write_text(dump_timeline(document, format_for(path, fmt)), encoding="utf-8")
