"""Many releases per helm process, byte-identical to one process each (scheduler.py says how).

- scheduler.py: the plan and the loop (typed tasks, chart states), the self-check per chart;
- wrapper.py: the generated wrapper chart, and splitting its output per release;
- chart_analysis.py: whether a chart can be batched, and why not;
- values.py: Helm's value coalescing, and which values may be batched.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    scheduler
    wrapper
    chart_analysis
    values
"""
