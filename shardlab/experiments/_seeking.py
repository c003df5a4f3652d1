"""The seeking brain of the supervisor and reaction experiments (R3; B1–B3, S4): the default brain
without its PFC planner (compile time), and with eligibility traces (λ = 0.8) and more entropy
(0.05) in the basal ganglia. Chosen when default agents settled early on a safe do-nothing policy
and never found a reward several steps away; the same for every agent an experiment compares, so
its contrasts are unaffected."""

from __future__ import annotations

from dataclasses import replace

from shardlab.brain import agent


def brain() -> agent.AgentConfig:
    base = agent.AgentConfig()
    return replace(
        base,
        basal_ganglia=replace(base.basal_ganglia, trace=0.8, entropy=0.05),
        pfc=replace(base.pfc, weight=0.0),
    )
