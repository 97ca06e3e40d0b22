"""Start the web app from a checkout: `python app/webapp.py [--host 127.0.0.1 --port 7860]`.

The layout, wiring and HTML views live in `assistant27.web` (so `assistant27 serve` and the tests import them
without this folder on the path); retrieval and prompts stay behind `Assistant`.
"""

from __future__ import annotations

import sys

from assistant27.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
