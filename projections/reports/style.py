"""The audit report's stylesheet, inlined into every HTML report (no fonts or files fetched)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --soft: #f5f7fa; --accent: #0b4f8a;
  --agreed: #1e7b4a; --negotiating: #9a5b00; --no-deal: #a61b1b; --opened: #52606d; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 32px 48px; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 22px; }
.eyebrow { text-transform: uppercase; letter-spacing: .08em; font-size: 11.5px; color: var(--muted);
  margin: 0 0 4px; font-weight: 600; }
h1 { font-size: 26px; margin: 0 0 14px; line-height: 1.2; }
h2 { font-size: 20px; margin: 0; line-height: 1.25; }
h3 { font-size: 14px; margin: 22px 0 8px; text-transform: uppercase; letter-spacing: .06em;
  color: var(--muted); }
dl.meta { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
  gap: 10px 24px; margin: 0; }
dl.meta div { min-width: 0; }
dl.meta div.digest { grid-column: 1 / -1; }
dl.meta dt { font-size: 11.5px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .06em; }
dl.meta dd { margin: 2px 0 0; font-weight: 600; overflow-wrap: anywhere; }
dl.meta .digest dd { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-weight: 500; }
code, .id { font: 12px ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono",
  monospace; }
nav.toc { margin: 0 0 24px; }
nav.toc ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; }
nav.toc a { display: inline-flex; gap: 8px; align-items: center; padding: 5px 10px;
  border: 1px solid var(--line); border-radius: 6px; text-decoration: none; color: var(--ink); }
section.negotiation, section.rollup { margin: 0 0 34px; padding-top: 8px; }
.heading { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap;
  border-bottom: 1px solid var(--line); padding-bottom: 8px; }
.heading .sub { color: var(--muted); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px;
  font-weight: 600; color: #fff; background: var(--opened); white-space: nowrap; }
.badge.agreed { background: var(--agreed); }
.badge.negotiating { background: var(--negotiating); }
.badge.no_deal { background: var(--no-deal); }
.standing { display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 28px;
  align-items: start; margin-top: 14px; }
.standing p { margin: 0 0 8px; }
.standing p.caption { color: var(--muted); font-size: 12.5px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px;
  border-bottom: 1px solid var(--line); }
thead th { font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  border-bottom: 2px solid #cbd2d9; background: #fff; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.split td { padding: 4px 8px; }
table.split tr.unallocated td { color: var(--muted); font-style: italic; }
.bar { display: block; height: 10px; border-radius: 2px; min-width: 1px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
figure.chart { margin: 0; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { font-size: 12px; color: var(--muted); margin-top: 2px; }
.empty { color: var(--muted); font-style: italic; }
table.seats { width: auto; min-width: 420px; font-size: 13px; }
table.seats td { padding: 3px 18px 3px 8px; }
table.seats tr.settled td:last-child { font-weight: 600; }
table.seats tr.unassigned td { color: var(--muted); }
table.moves { font-size: 12.5px; table-layout: fixed; min-width: 1080px; }
table.moves td { overflow-wrap: anywhere; }
table.moves thead th { letter-spacing: .02em; font-size: 11px; }
.chip { white-space: nowrap; display: inline-block; margin-right: 4px; }
table.moves tbody tr:nth-child(even) { background: var(--soft); }
table.moves td.when { white-space: nowrap; }
table.split td:first-child, td.split-cell { white-space: nowrap; }
table.moves .clock { display: block; color: var(--muted); font-size: 11px; }
table.moves .id { display: block; color: var(--muted); font-size: 11px; overflow-wrap: anywhere; }
table.moves .type { font-weight: 600; white-space: nowrap; }
table.moves tr.corrected td { color: #7b8794; }
table.moves tr.superseded td.split .chip, table.moves tr.superseded td.moved .chip {
  text-decoration: line-through; }
table.moves tr.correction { box-shadow: inset 3px 0 0 #c77c02; }
table.moves tr:target { outline: 2px solid var(--accent); outline-offset: -2px; }
.mark { display: inline-block; margin-top: 3px; padding: 0 6px; border-radius: 4px; font-size: 11px;
  font-weight: 600; text-decoration: none; overflow-wrap: anywhere; }
.mark.corrects { background: #fff4e0; color: #8a5300; border: 1px solid #f0c36d; }
.mark.corrected-by { background: #fde8e8; color: #9b1c1c; border: 1px solid #f5b5b5; }
.reported { color: #8a5300; font-weight: 600; }
.split-cell { white-space: nowrap; }
a { color: var(--accent); }
footer { border-top: 1px solid var(--line); margin-top: 30px; padding-top: 12px;
  color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { .standing { grid-template-columns: 1fr; } main { padding: 16px; } }
@media print {
  main { max-width: none; padding: 0; }
  section.negotiation { break-before: page; }
  table.moves a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 10px;
    overflow-wrap: anywhere; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
"""

# One colour per party code, the same in every report. The parties of the bundled INDIA bloc
# talks have their own; any other code takes a palette colour chosen by a hash of its code
# (stable from run to run), and a timeline file's `colour` on a party overrides both.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#7A5195",
    "#8C564B", "#4D4D4D", "#BCBD22", "#17BECF", "#B2182B", "#2E7D32", "#5C6BC0",
)  # fmt: skip
KNOWN_COLOURS = {
    "INC": "#0072B2",
    "SP": "#D55E00",
    "TMC": "#009E73",
    "AAP": "#56B4E9",
    "RJD": "#2E7D32",
    "JDU": "#BCBD22",
    "SSUBT": "#E69F00",
    "NCPSP": "#17BECF",
    "CPIML": "#7A5195",
    "CPI": "#B2182B",
    "CPIM": "#CC79A7",
    "DMK": "#8C564B",
    "VBA": "#5C6BC0",
}
# Markers and dash patterns keyed the same way, so lines that share a colour or a value
# still differ in shape.
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h", "<", ">")


def _hashed(code: str, choices: tuple[str, ...]) -> str:
    return choices[zlib.crc32(code.encode("utf-8")) % len(choices)]


def party_colours(
    parties: Iterable[str], chosen: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each party's colour: its chosen one, else its own, else one hashed from its code.

    A hashed colour that another party of the same report already shows moves on to the
    next free one, so a chart never draws two parties alike.
    """
    colours: dict[str, str] = {}
    pending = []
    for party in dict.fromkeys(parties):
        fixed = (chosen or {}).get(party) or KNOWN_COLOURS.get(party)
        if fixed:
            colours[party] = fixed
        else:
            pending.append(party)
    for party in sorted(pending):
        start = PALETTE.index(_hashed(party, PALETTE))
        taken = set(colours.values())
        free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        colours[party] = next((c for c in free if c not in taken), free[0])
    return colours


def party_marker(party: str) -> str:
    """The marker a party's points carry in every chart."""
    return _hashed(party, MARKERS)
