"""assistant27: answers questions about a corpus of publications, with cited sources."""

from assistant27.schema import Answer, Citation, Passage

__all__ = ["Answer", "Citation", "Passage"]
__version__ = "0.1.0"
