"""Looking at a run: one timeline model (:mod:`.timeline`) and its views — a console tree
(:mod:`.console`), a self-contained HTML file (:mod:`.html_file`); the web UI draws the same model."""
