"""Time and peak memory of a fresh process's first French analysis (stop words) and first word-list lookup.

Run it on two checkouts to compare: PYTHONPATH=src .venv/bin/python benchmarks/first_analysis.py
"""

import resource
import sys
import time

started = time.perf_counter()
from assistant27.analysis import analyze  # noqa: E402
from assistant27.textclean import clean_text  # noqa: E402

imported = time.perf_counter()
analyze("Quelles collectivités ont participé au programme ?")
analysed = time.perf_counter()
clean_text("Les expé-\nrimentations de l’innovation publique")
cleaned = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    f"import {imported - started:.2f} s, first analyze {analysed - imported:.2f} s, "
    f"first clean_text {cleaned - analysed:.2f} s, peak RSS {peak:.0f} MB, "
    f"llama_index imported: {'llama_index.core' in sys.modules}"
)
