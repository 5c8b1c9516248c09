"""Who takes part in the synthetic season, and the words and dates its moves are written in.

The parties (the alliance's members and the outsiders), the alliance's id, the sources,
notes and venues moves quote, and the calendar: a day number as the file writes it, a bare
date or an instant in Indian time.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

START = date(2023, 1, 1)
SPAN_DAYS = 730
ALLIANCE = "bench-bloc"
IST = "+05:30"

PARTY_COUNT = 60
OUTSIDERS = 12  # parties outside the alliance; some join it (and leave) during the season

SOURCES = (
    "https://www.thehindu.com/news/national/article{}.ece",
    "https://indianexpress.com/article/political-pulse/seat-sharing-{}/",
    "https://www.hindustantimes.com/india-news/talks-{}.html",
    "https://timesofindia.indiatimes.com/india/alliance-{}.cms",
)
NOTES = (
    "Leaders met late into the night; both sides called the talks cordial.",
    "Reported by two newspapers quoting unnamed party functionaries.",
    "The state unit wants more seats than the central leadership offered.",
    "Talks adjourned after a disagreement over two urban constituencies.",
    "A party spokesperson denied any rift and said a deal was close.",
    "The smaller partner threatened to contest alone if its demand was not met.",
)
VENUES = ("Party headquarters", "Chief minister's residence", "Online", "State guest house")


def party_codes() -> tuple[list[str], list[str]]:
    """The alliance's member codes and the outsiders' codes."""
    members = [f"P{i:02d}" for i in range(1, PARTY_COUNT + 1)]
    outsiders = [f"X{i:02d}" for i in range(1, OUTSIDERS + 1)]
    return members, outsiders


def day(number: int) -> str:
    """Day `number` of the season as a bare date."""
    return (START + timedelta(days=number)).isoformat()


def instant(rng: random.Random, number: int) -> str:
    """A moment of day `number`, as an ISO instant in Indian time."""
    # Same UTC day, after every bare date of that day: 06:00-17:59 UTC as IST.
    hour, minute = rng.randrange(6, 18), rng.randrange(60)
    moment = datetime.combine(START + timedelta(days=number), datetime.min.time(), UTC)
    local = moment + timedelta(hours=hour + 5, minutes=minute + 30)
    return local.strftime("%Y-%m-%dT%H:%M:00") + IST
