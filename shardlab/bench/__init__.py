"""`shardlab bench`: performance as ratios against peers run on the same machine, same run."""

import typer

from shardlab.bench.agent import agent
from shardlab.bench.worlds import worlds

app = typer.Typer(help="Benchmarks against peer libraries (install the `bench` extra).")
app.command("worlds")(worlds)
app.command("agent")(agent)


@app.command("all")
def all_benchmarks(
    json_out: bool = typer.Option(False, "--json", help="Print only JSON."),
) -> None:
    """Every benchmark at its default settings."""
    worlds(json_out=json_out)
    agent(json_out=json_out)
