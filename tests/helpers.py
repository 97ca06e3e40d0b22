"""Helpers shared by test files: a corpus written in versions, the check that each publication is seen whole, and a
small evaluation set."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = ["la commande publique", "les tiers-lieux", "la forêt", "les cantines", "le contrat de ville", "les achats"]


def write_versioned_corpus(folder: Path, files: int, version: int = 1) -> None:
    """`files` publications; a new version rewrites their even paragraphs only, so some chunks stay the same."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        paragraphs = []
        for p in range(12):
            v = version if p % 2 == 0 else 1
            rng = random.Random(f"{n}-{p}-{v}")
            topic = rng.choice(TOPICS)
            paragraphs.append(
                f"Publication {n}, partie {p}, version {v}. "
                + " ".join(
                    f"En {2010 + (n + i) % 15}, l'équipe a étudié {topic} avec la Région numéro "
                    f"{n * 100 + p * 7 + i + rng.randint(0, 10 ** (v + 1))}."
                    for i in range(8)
                )
            )
        (folder / f"pub-{n:03d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


Versions = dict[str, set[str]]  # source -> its chunk ids in one version of the corpus


def by_source(chunks: list[list[str]]) -> Versions:
    out: Versions = {}
    for id_, source, _ in chunks:
        out.setdefault(source, set()).add(id_)
    return out


def assert_whole(seen: Versions, old: Versions, new: Versions, moment: str) -> None:
    """Every publication is seen exactly as in the old version or the new one (or absent, where that is one)."""
    for source in sorted(set(seen) | set(old) | set(new)):
        chunks = seen.get(source, set())
        assert chunks in (old.get(source, set()), new.get(source, set())), (
            f"{moment}: {source} shows {len(chunks & old.get(source, set()))} chunks of its old version and "
            f"{len(chunks - old.get(source, set()))} others"
        )


EVIDENCE_NA = "mené en partenariat avec l’ANCT, Aix-Marseille Provence Métropole"
ITEMS = [
    {
        "id": "a1",
        "question": "Qui participe à Nouveaux Accords ?",
        "type": "list",
        "answer": "L'ANCT et Aix-Marseille Provence Métropole.",
        "must_include": [["ANCT"]],
        "source": "rapport-2022.txt",
        "evidence": EVIDENCE_NA,
        "year": 2022,
    },
    {
        "id": "a2",
        "question": "Quelles régions pour le programme Forêts ?",
        "type": "factual",
        "answer": "La Région Grand Est.",
        "must_include": [["Grand Est"]],
        "source": "rapport-2025.txt",
        "evidence": "le programme Forêts a réuni la Région Grand Est et le Parc naturel du Morvan",
        "year": 2025,
    },
    {
        "id": "u1",
        "question": "Qui préside le conseil d'administration ?",
        "type": "unanswerable",
        "answer": "Non dit.",
        "must_include": [],
        "source": None,
        "evidence": None,
        "year": None,
        "tags": ["hard"],
    },
]


def write_set(folder: Path, name: str = "mini.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in ITEMS), encoding="utf-8")
    return path
