"""The five measurements of loadtest/bench.py, one module each: `measure(cfg)` runs it
and returns its figures, `render(figures, cfg)` turns them into Markdown."""
