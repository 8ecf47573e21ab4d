"""
Times the sketch's PortfolioManager.recommend_rebalance (../shared/seed/portfolio-plan.md) on
the inputs that bench/recommend-vs-sketch.ts writes. Harness only: the sketch's code is
extracted from the markdown at bench time into SKETCH_DIR and imported from there, unchanged.

usage: python3 sketch_harness.py SKETCH_DIR CASE_TSV WARMUPS RUNS
prints one JSON line: {"n", "runs", "median_ms", "min_ms", "actions", "build_s"}
"""
import asyncio
import json
import statistics
import sys
import time


def main() -> None:
    sketch_dir, case_path = sys.argv[1], sys.argv[2]
    warmups, runs = int(sys.argv[3]), int(sys.argv[4])
    sys.path.insert(0, sketch_dir)
    from src.business.portfolio import PortfolioManager  # noqa: E402  (the extracted sketch)
    from src.business.portfolio_models import (  # noqa: E402
        AllocationStrategy,
        Portfolio,
        ResourceAllocation,
    )

    built = time.perf_counter()
    manager = PortfolioManager()
    portfolio = Portfolio(id="bench", name="bench", owner_id="bench", strategy=AllocationStrategy.PERFORMANCE)
    with open(case_path, encoding="utf-8") as f:
        for line in f:
            # id, weight, priority, locked, has_metrics, revenue, expenses, profit, margin,
            # customers, growth_rate, health_score, stage
            c = line.rstrip("\n").split("\t")
            business_id, weight = c[0], float(c[1])
            portfolio.business_ids.append(business_id)
            portfolio.allocations[business_id] = ResourceAllocation(
                business_id=business_id,
                weight=weight,
                budget_percent=weight * 100,
                attention_hours=weight * 40,
                priority=int(c[2]),
                locked=c[3] == "1",
            )
            if c[4] == "1":
                manager.set_business_data(business_id, {
                    "name": business_id,
                    "revenue": float(c[5]),
                    "expenses": float(c[6]),
                    "profit": float(c[7]),
                    "margin": float(c[8]),
                    "customers": int(c[9]),
                    "growth_rate": float(c[10]),
                    "health_score": float(c[11]),
                    "stage": c[12],
                })
    manager._portfolios[portfolio.id] = portfolio
    build_s = time.perf_counter() - built

    async def timed() -> tuple[list[float], dict]:
        for _ in range(warmups):
            await manager.recommend_rebalance(portfolio.id)
        times = []
        report = None
        for _ in range(runs):
            start = time.perf_counter()
            report = await manager.recommend_rebalance(portfolio.id)
            times.append((time.perf_counter() - start) * 1000)
        actions: dict[str, int] = {}
        for a in report.actions:
            actions[a.action] = actions.get(a.action, 0) + 1
        return times, actions

    times, actions = asyncio.run(timed())
    print(json.dumps({
        "n": len(portfolio.business_ids),
        "runs": runs,
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "actions": actions,
        "build_s": build_s,
    }))


if __name__ == "__main__":
    main()
