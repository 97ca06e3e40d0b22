"""The web app, one job a module: `app` (layout and wiring), `render` (HTML views), `auth` (access token), `memory`."""
