"""Benchmarks: this project against django-cas-ng 5.1.1, side by side (``python -m bench``).

See bench/README.md. The orchestration lives in ``bench/__main__.py``; the measuring code that
runs inside each implementation's virtualenv is ``bench/worker.py``.
"""
