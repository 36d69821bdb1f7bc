"""ACD benchmark: CPU cost of one routing decision, by agents and waiting conversations.

Run `python bench/acd.py` (about ten seconds); `--quick` for a smoke run. For each size
(100, 1,000, 10,000 agents x 1,000, 10,000, 100,000 waiting) it builds one engine in memory,
in a shape where every kind of decision happens:

- Half the agents ("backlog" pool, capacity 2) are members of backlog queues and are busy at
  capacity with connected conversations; all the waiting conversations are in those queues.
- The other half ("live" pool, capacity 2) are members of live queues and are idle.
- Queues use ALL skill evaluation (Parley's default); agents have one of 40 skill profiles
  over 8 skills; half the conversations require one skill, half none.

Then it times, one call at a time, only calls that produce an offer. The clock is the thread's
CPU time (time.thread_time_ns, less its own measured overhead), so a busy shared machine that
deschedules the process does not count as routing cost; wall-clock time adds whatever the
scheduler takes.

  enqueue -> offer   `enqueue` into a live queue: pick the longest-idle eligible agent
  freed -> offer     `finish` of a connected conversation in the backlog: the agent takes its
                     best waiting conversation (priority, then age) across its queues
  timeout -> offer   `tick` that expires one alerting offer: the agent goes NOT_RESPONDING
                     and the conversation is offered to the next agent

Each timed call is followed by untimed calls that put the state back (accept, finish, clear
not responding), so the sizes hold through the run. The garbage collector stays on (as in a
server) but the built state is frozen out of its scans (gc.freeze), as a long-running
process's old generation would be. The table shows the median and p99 in microseconds.

--write puts the table between the `acd` markers in docs/performance.md (creating the
markers, or the file, if absent) and draws docs/acd-decision-cost.svg (needs matplotlib).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from parley.domain.acd import (  # noqa: E402 - after the path set-up for a plain checkout
    Acd,
    Decision,
    Offered,
    SkillEvaluationMethod,
)

DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "acd-decision-cost.svg"
BEGIN = "<!-- acd:start -->"
END = "<!-- acd:end -->"
AGENTS = (100, 1_000, 10_000)
WAITING = (1_000, 10_000, 100_000)
SKILLS = [f"skill-{n}" for n in range(8)]
PROFILES = 40
CAPACITY = 2
TIMEOUT_MS = 30_000
KINDS = ("enqueue", "freed", "timeout")
TITLES = {"enqueue": "enqueue → offer", "freed": "agent freed → offer",
          "timeout": "timeout tick → re-offer"}


@dataclass
class Result:
    agents: int
    waiting: int
    evaluation: SkillEvaluationMethod
    samples: dict[str, list[float]] = field(default_factory=dict)  # kind -> microseconds

    def cell(self, kind: str) -> str:
        xs = self.samples.get(kind) or []
        if not xs:
            return "n/a"
        return f"{median(xs):.1f} / {p99(xs):.1f}"


def _timer_overhead_ns() -> int:
    """What one empty timed call costs (reading the thread CPU clock is a system call)."""
    samples = []
    for _ in range(2_000):
        start = time.thread_time_ns()
        samples.append(time.thread_time_ns() - start)
    return sorted(samples)[len(samples) // 2]


TIMER_NS = _timer_overhead_ns()


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p99(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Scenario:
    """One engine of a given size, plus the bookkeeping to time decisions on it."""

    def __init__(self, agents: int, waiting: int, evaluation: SkillEvaluationMethod,
                 seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.acd = Acd()
        self.now = 1
        self.ids = 0
        self.last: list[Decision] = []
        rng = self.rng
        profiles = [{s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(2, 4))}
                    for _ in range(PROFILES)]
        pool_queues = max(2, agents // 200)
        self.live_queues = [f"live-{n}" for n in range(pool_queues)]
        self.backlog_queues = [f"backlog-{n}" for n in range(pool_queues)]
        for q in self.live_queues + self.backlog_queues:
            self.acd.set_queue(q, 0, evaluation=evaluation, alerting_timeout_ms=TIMEOUT_MS)
        self.live_agents: list[str] = []
        self.backlog_agents: list[str] = []
        for n in range(agents):
            live = n % 2 == 0
            agent = f"{'live' if live else 'backlog'}-agent-{n}"
            self.acd.set_agent(agent, 0, capacity=CAPACITY, skills=rng.choice(profiles))
            for q in rng.sample(self.live_queues if live else self.backlog_queues, 2):
                self.acd.set_member(q, agent, True, 0)
            self.acd.set_on_queue(agent, True, self.tick_clock())
            (self.live_agents if live else self.backlog_agents).append(agent)
        # Fill the backlog: every backlog agent connected at capacity, then `waiting` more.
        self.connected: list[str] = []
        while len(self.connected) < len(self.backlog_agents) * CAPACITY:
            x = self.enqueue(rng.choice(self.backlog_queues), skills=frozenset())
            for d in self.last:
                if isinstance(d, Offered):
                    self.acd.accept(d.interaction_id, d.agent_id, self.now)
                    self.connected.append(d.interaction_id)
            if not any(isinstance(d, Offered) for d in self.last):
                self.acd.finish(x, self.now)  # not placed (skills); try another
        for _ in range(waiting):
            self.enqueue(rng.choice(self.backlog_queues))

    def tick_clock(self) -> int:
        self.now += 1
        return self.now

    def required(self) -> frozenset[str]:
        return frozenset() if self.rng.random() < 0.5 else frozenset([self.rng.choice(SKILLS)])

    def enqueue(self, queue: str, skills: frozenset[str] | None = None) -> str:
        self.ids += 1
        x = f"x{self.ids}"
        self.last = self.acd.enqueue(x, queue, self.tick_clock(), priority=self.rng.randint(0, 2),
                                     skills=self.required() if skills is None else skills)
        return x

    def timed(self, call: Callable[[], list[Decision]]) -> tuple[float, list[Decision]]:
        start = time.thread_time_ns()
        decisions = call()
        return max(0.0, (time.thread_time_ns() - start - TIMER_NS) / 1_000), decisions

    # ---------------------------------------------------------------- the three decisions

    def time_enqueue(self, n: int) -> list[float]:
        out: list[float] = []
        attempts = 0
        while len(out) < n and attempts < 20 * n:
            attempts += 1
            self.ids += 1
            x = f"x{self.ids}"
            q = self.rng.choice(self.live_queues)
            now = self.tick_clock()
            skills, priority = self.required(), self.rng.randint(0, 2)
            us, decisions = self.timed(lambda: self.acd.enqueue(
                x, q, now, priority=priority, skills=skills))  # noqa: B023 - called at once
            offer = next((d for d in decisions if isinstance(d, Offered)), None)
            if offer is not None:
                out.append(us)
                self.acd.accept(x, offer.agent_id, self.tick_clock())
            self.acd.finish(x, self.tick_clock())
        return out

    def time_freed(self, n: int) -> list[float]:
        out: list[float] = []
        while len(out) < n and self.connected:
            i = self.rng.randrange(len(self.connected))
            x = self.connected[i]
            self.connected[i] = self.connected[-1]
            self.connected.pop()
            now = self.tick_clock()
            us, decisions = self.timed(lambda: self.acd.finish(x, now))  # noqa: B023
            for d in decisions:
                if isinstance(d, Offered):
                    self.acd.accept(d.interaction_id, d.agent_id, self.now)
                    self.connected.append(d.interaction_id)
            if any(isinstance(d, Offered) for d in decisions):
                out.append(us)
            # Keep the backlog at its size.
            self.enqueue(self.rng.choice(self.backlog_queues))
        return out

    def time_timeouts(self, n: int) -> list[float]:
        """Rounds: offer to a third of the live pool (deadlines 1 ms apart), then tick through
        the deadlines one at a time; afterwards clear NOT_RESPONDING and finish the round."""
        out: list[float] = []
        per_round = max(1, len(self.live_agents) // 3)
        while len(out) < n:
            offered: list[tuple[str, int]] = []
            for _ in range(per_round):
                x = self.enqueue(self.rng.choice(self.live_queues), skills=frozenset())
                offer = next((d for d in self.last if isinstance(d, Offered)), None)
                if offer is None:
                    self.acd.finish(x, self.now)
                    continue
                offered.append((x, offer.deadline_ms))
            if not offered:
                break
            for _, deadline in sorted(offered, key=lambda o: o[1]):
                self.now = max(self.now, deadline)
                now = self.now
                us, decisions = self.timed(lambda: self.acd.tick(now))  # noqa: B023
                if any(isinstance(d, Offered) for d in decisions):
                    out.append(us)
            self.now += TIMEOUT_MS + 1
            self.acd.tick(self.now)
            for x, _ in offered:
                self.acd.finish(x, self.tick_clock())
            for agent in self.live_agents:
                self.acd.clear_not_responding(agent, self.now)
        return out[:n]


def run(agents: int, waiting: int, evaluation: SkillEvaluationMethod, n: int, step: str,
        ) -> Result:
    progress(f"{step} {agents:>6,} agents x {waiting:>7,} waiting ({evaluation}): building")
    start = time.perf_counter()
    scenario = Scenario(agents, waiting, evaluation)
    gc.collect()
    gc.freeze()
    result = Result(agents, waiting, evaluation)
    progress(f"{step}   built in {time.perf_counter() - start:.1f}s; timing {n} of each")
    result.samples["enqueue"] = scenario.time_enqueue(n)
    result.samples["freed"] = scenario.time_freed(min(n, waiting // 2))
    result.samples["timeout"] = scenario.time_timeouts(n)
    progress(f"{step}   " + ", ".join(
        f"{TITLES[k]} {result.cell(k)} µs" for k in KINDS))
    del scenario
    gc.unfreeze()
    gc.collect()
    return result


def table(results: list[Result], command: str, seconds: float) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        "## ACD decision cost",
        "",
        f"`{command}` on {dt.date.today().isoformat()}, Python {platform.python_version()}, "
        f"{platform.system()} {cpu}, {os.cpu_count()} CPUs; {seconds:.0f} s. "
        "CPU time of one engine call that makes an offer, median / p99 in microseconds "
        f"(thread CPU clock, its own {TIMER_NS / 1000:.1f} µs overhead subtracted; details in "
        "the docstring of `bench/acd.py`).",
        "",
        "| agents | waiting | skills | " + " | ".join(TITLES[k] for k in KINDS) + " |",
        "|---:|---:|---|" + "---:|" * len(KINDS),
    ]
    for r in results:
        lines.append(f"| {r.agents:,} | {r.waiting:,} | {r.evaluation} | "
                     + " | ".join(r.cell(k) for k in KINDS) + " |")
    lines += ["", "![ACD decision cost](acd-decision-cost.svg)"]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    block = f"{BEGIN}\n{section}\n{END}"
    if not DOC.exists():
        DOC.write_text("# Performance\n\n" + block + "\n")
        return
    doc = DOC.read_text()
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: block, doc, count=1)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc)


def plot(results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # real text, and stable ids: a diffable SVG
    matplotlib.rcParams["svg.hashsalt"] = "parley-acd"
    import matplotlib.pyplot as plt

    grid = [r for r in results if r.evaluation is SkillEvaluationMethod.ALL]
    fig, axes = plt.subplots(1, len(KINDS), figsize=(12, 3.8), sharey=True)
    for ax, kind in zip(axes, KINDS, strict=True):
        for agents in sorted({r.agents for r in grid}):
            rows = sorted((r for r in grid if r.agents == agents and r.samples.get(kind)),
                          key=lambda r: r.waiting)
            xs = [r.waiting for r in rows]
            ax.plot(xs, [median(r.samples[kind]) for r in rows], marker="o",
                    label=f"{agents:,} agents (median)")
            ax.plot(xs, [p99(r.samples[kind]) for r in rows], marker=".", linestyle=":",
                    color=ax.lines[-1].get_color(), label=f"{agents:,} agents (p99)")
        ax.set_xscale("log")
        ax.set_title(TITLES[kind])
        ax.set_xlabel("waiting conversations")
        ax.axhline(50, color="grey", linewidth=0.8, linestyle="--")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("µs per decision")
    axes[0].legend(fontsize=7)
    fig.suptitle("Parley ACD: cost of one routing decision (dashed line: 50 µs target)")
    fig.tight_layout()
    fig.savefig(PLOT, metadata={"Date": None})
    if os.environ.get("ACD_BENCH_PNG"):  # a raster copy for a quick look
        fig.savefig(os.environ["ACD_BENCH_PNG"], dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="write the table into docs/performance.md and draw the SVG plot")
    parser.add_argument("--quick", action="store_true", help="small sizes, few samples")
    parser.add_argument("-n", type=int, default=2_000, help="decisions timed per kind")
    args = parser.parse_args()
    agents, waiting, n = (AGENTS[:2], WAITING[:2], 200) if args.quick else (AGENTS, WAITING,
                                                                           args.n)
    plan = [(a, w, SkillEvaluationMethod.ALL) for a in agents for w in waiting]
    # The other evaluation methods at the largest size.
    plan += [(agents[-1], waiting[-1], m)
             for m in (SkillEvaluationMethod.BEST, SkillEvaluationMethod.NONE)]
    started = time.perf_counter()
    results = [run(a, w, m, n, f"[{i}/{len(plan)}]") for i, (a, w, m) in enumerate(plan, 1)]
    seconds = time.perf_counter() - started
    command = "python bench/acd.py" + (" --quick" if args.quick else "")
    section = table(results, command, seconds)
    print(section)
    if args.write:
        write_doc(section)
        plot(results)
        progress(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
