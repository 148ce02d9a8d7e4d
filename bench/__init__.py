"""The benchmark suite (issue 7): every figure measured against a baseline taken in the same run.

Run it with `python -m bench.run --quick|--full|--smoke [--only NAME]`; results go to bench/results.json.
"""
