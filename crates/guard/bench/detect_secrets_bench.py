"""Time detect-secrets (PyPI) on the same corpora, in-process, one core, default plugins.
Prints one line per file: median MB/s over ROUNDS runs and the number of secrets it reported."""
import statistics
import sys
import time

from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

ROUNDS = 3
for path in sys.argv[1:]:
    size = len(open(path, "rb").read())
    rates, cpu_rates, found = [], [], 0
    for _ in range(ROUNDS):
        with default_settings():
            sc = SecretsCollection()
            t, c = time.perf_counter(), time.thread_time()
            sc.scan_file(path)
            dt, dc = time.perf_counter() - t, time.thread_time() - c
        rates.append(size / dt / 1e6)
        cpu_rates.append(size / dc / 1e6)
        found = sum(len(v) for v in sc.data.values())
    print(f"{path}\t{size/1e6:.2f} MB\twall median {statistics.median(rates):.2f} MB/s (min {min(rates):.2f}, max {max(rates):.2f})\tper-core (on-CPU time) median {statistics.median(cpu_rates):.2f} MB/s\tfindings {found}")
