"""Items of a recorded run that the catalogue answered and that the current code's catalogue no longer takes: answered
again by the whole assistant (extractive generator), scored, compared with the recording, by part.

Usage (the leftover-words check of commit 916d586, reverted in d936af8; evals/HISTORY.md 2026-12-07):
    git checkout 916d586 && HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/catalogue_decline.py RUN_DIR
"""

import json
import sys
from pathlib import Path

from assistant27.assistant import Assistant
from assistant27.config import Settings
from assistant27.evalrunner import _repair
from assistant27.evaluation import EvidenceMatcher, score_item
from assistant27.programme_answers import recognise

a = Assistant.from_settings(Settings.from_env(), generator="extractive")
cat = a.corpus.current().catalogue
matcher = EvidenceMatcher(_repair)
R = Path(sys.argv[1] if len(sys.argv) > 1 else "evals/reports/2026-12-07-suite-extractive-answercheck")
tally = {}
for f in ["publications", "hard-unanswerable", "public-fr"]:
    for line in (R / f / "results.jsonl").read_text(encoding="utf-8").splitlines():
        x = json.loads(line)
        if x["result"].get("generator") != "catalogue" or recognise(x["question"], cat) is not None:
            continue
        result = a.ask(x["question"]).to_json()
        v = score_item(x, result, matcher)
        before = x["verdict"]
        key = (x["part"], "answerable" if before["answerable"] else "unanswerable")
        t = tally.setdefault(key, [0, 0, 0, 0, 0])
        t[0] += 1
        t[1] += before["answer_correct"]
        t[2] += v.answer_correct
        t[3] += before["refused"]
        t[4] += v.refused
        if x["part"] == "tuning":
            print(
                x["id"],
                "before",
                before["answer_correct"],
                before["refused"],
                "after",
                v.answer_correct,
                v.refused,
                "|",
                x["question"][:80],
                "\n    ",
                result["answer"][:200].replace("\n", " | "),
                flush=True,
            )
for k, t in sorted(tally.items()):
    print(k, f"items {t[0]}: right {t[1]} -> {t[2]}; refused {t[3]} -> {t[4]}")
