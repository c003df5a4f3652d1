"""One self-contained HTML report (inline CSS, figures as base64 PNG) for one run or many.

The report is rendered from run directories alone, so `shardlab report` can rebuild it at any
time, and a single file can be mailed or archived without losing its figures.
"""

import base64
import html
import json
from pathlib import Path
from typing import Any

from shardlab.errors import ShardlabError
from shardlab.runner.store import REPORT, SUMMARY, RunStore, read_json, write_text

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; border-radius: 4px; padding: .1em .4em; }
.supported { background: #d8f3dc; color: #1b5e20; }
.not-supported { background: #fde2e1; color: #b71c1c; }
.inconclusive { background: #fff3cd; color: #7a5b00; }
.not-testable { background: #ece2f5; color: #4a148c; }
section { border-top: 2px solid #ccc; margin-top: 2.5em; }
img { max-width: 100%; display: block; margin: 1em 0; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: 13px; }
.meta { color: #666; font-size: 13px; }
"""

Run = tuple[Path, dict[str, Any]]


def _e(value: Any) -> str:
    return html.escape(str(value))


def precondition_marks(claim: dict[str, Any]) -> str:
    """✓/✗ per precondition, or — when the claim has none."""
    return "".join("✓" if p["passed"] else "✗" for p in claim["preconditions"]) or "—"


def _claims_table(runs: list[Run]) -> str:
    rows = []
    for _, summary in runs:
        smoke = " <span class=meta>(smoke test)</span>" if summary.get("quick") else ""
        for claim in summary["claims"]:
            lo, hi = claim["ci"]
            css = claim["verdict"].replace(" ", "-")
            rows.append(
                f"<tr><td>{_e(claim['id'])}</td><td>{_e(summary['experiment'])}</td>"
                f"<td>{_e(claim['claim'])}</td><td>{_e(claim['prediction'])}</td>"
                f"<td class=num>{claim['effect']:.3g} [{lo:.3g}, {hi:.3g}]</td>"
                f"<td class=num>{claim['tests'][0]['margin']:.3g}</td>"
                f"<td>{precondition_marks(claim)}</td>"
                f"<td class=num>{claim['n']} {_e(claim['unit'])}s</td>"
                f"<td><span class='verdict {css}'>{_e(claim['verdict'])}</span>{smoke}</td>"
                f"<td>{_e(claim['reason'])}</td></tr>"
            )
    return (
        "<table><tr><th>id</th><th>experiment</th><th>claim</th><th>prediction</th>"
        "<th>effect [95% CI]</th><th>margin</th><th>pre</th><th>n</th><th>verdict</th>"
        "<th>reason</th></tr>" + "".join(rows) + "</table>"
    )


def _judgement(claim: dict[str, Any]) -> str:
    """One claim's tests and preconditions in full."""
    tests = "".join(
        f"<tr><td>{_e(t['name'])}</td><td>{_e(t['kind'])}</td><td class=num>{t['effect']:.3g} "
        f"[{t['ci'][0]:.3g}, {t['ci'][1]:.3g}]</td><td class=num>{t['margin']:.3g}</td>"
        f"<td>{_e(t['verdict'])}</td></tr>" for t in claim["tests"]
    )
    pre = "".join(
        f"<tr><td>{_e(p['name'])}</td><td>precondition</td><td class=num>{p['value']:.3g} "
        f"[{p['ci'][0]:.3g}, {p['ci'][1]:.3g}]</td><td class=num>"
        f"{'>' if p['direction'] == 1 else '<'} {p['threshold']:.3g}</td>"
        f"<td>{'passed' if p['passed'] else 'failed'}</td></tr>" for p in claim["preconditions"]
    )
    return (
        f"<table><tr><th>{_e(claim['id'])}: test</th><th>kind</th><th>effect [95% CI]</th>"
        f"<th>margin / threshold</th><th>verdict</th></tr>{tests}{pre}</table>"
    )


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{_e(path.name)}' src='data:image/png;base64,{data}'>"


def _section(run_dir: Path, summary: dict[str, Any]) -> str:
    paragraphs = "".join(
        f"<p>{_e(part.strip())}</p>" for part in summary["description"].split("\n\n")
    )
    details = "".join(
        f"<li><b>{_e(c['id'])}</b> — contrast: {_e(c['contrast'])}"
        + (f"; {_e(c['detail'])}" if c.get("detail") else "") + "</li>"
        for c in summary["claims"]
    )
    judgements = "".join(_judgement(c) for c in summary["claims"])
    figures = "".join(_figure(run_dir / name) for name in summary["figures"])
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in summary["versions"].items())
    return (
        f"<section id='{_e(summary['experiment'])}'><h2>{_e(summary['title'])}</h2>"
        f"<p class=meta>{_e(summary['experiment'])} · {_e(run_dir)} · seeds "
        f"{len(summary['seeds'])} · wall time {summary['wall_time_s']:.1f} s · seed compute "
        f"{summary['compute_time_s']:.1f} s</p>{paragraphs}<ul>{details}</ul>{judgements}{figures}"
        f"<h3>Config</h3><pre>{_e(json.dumps(summary['config'], indent=2))}</pre>"
        f"<p class=meta>versions: {versions}</p></section>"
    )


def render(title: str, runs: list[Run]) -> str:
    """The whole report as one HTML string."""
    body = _claims_table(runs) + "".join(_section(path, summary) for path, summary in runs)
    return (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>{body}</body></html>\n"
    )


def write_report(path: Path, title: str, runs: list[Run]) -> Path:
    write_text(path, render(title, runs))
    return path


def regenerate(directory: Path) -> Path:
    """Rebuild `report.html` of a complete run, or of a `reproduce` output directory."""
    if not (directory / SUMMARY).is_file():
        raise ShardlabError(f"'{directory}' is not a complete run (no {SUMMARY})")
    summary = read_json(directory / SUMMARY)
    if "runs" not in summary:
        return write_report(directory / REPORT, summary["title"], [(directory, summary)])
    runs = [(directory / run, RunStore(directory / run).read_summary()) for run in summary["runs"]]
    return write_report(directory / REPORT, summary["title"], runs)
