"""`shardlab bench`: performance as ratios against peers run on the same machine, same run."""

import typer

from shardlab.bench import agent as agent_bench
from shardlab.bench import learning as learning_bench
from shardlab.bench import text as text_bench
from shardlab.bench import values as values_bench
from shardlab.bench import worlds as worlds_bench

app = typer.Typer(help="Benchmarks against peer libraries (install the `bench` extra).")
app.command("worlds")(worlds_bench.worlds)
app.command("agent")(agent_bench.agent)
app.command("learning")(learning_bench.learning)
app.command("text")(text_bench.text)
app.command("values")(values_bench.values)


@app.command("all")
def all_benchmarks(
    json_out: bool = typer.Option(False, "--json", help="Print only JSON."),
) -> None:
    """Every benchmark at its default settings, except `learning`, which runs 4,096 steps per
    learner rather than 50,000 so that `make bench` stays within 30 minutes on 2 cores."""
    worlds_bench.worlds(json_out=json_out)
    agent_bench.agent(json_out=json_out)
    learning_bench.learning(json_out=json_out, steps=learning_bench.ALL_STEPS)
    text_bench.text(json_out=json_out)
    values_bench.values(json_out=json_out)
