.PHONY: up test install ingest serve eval lint

up:        ## install, ingest knowledge/, serve API and UI
	bash scripts/up.sh

test:      ## install and run the whole test suite
	bash scripts/test.sh

install:
	bash scripts/install.sh

ingest:
	.venv/bin/pka ingest

serve:
	.venv/bin/pka serve

eval:
	.venv/bin/pka eval --set evals/dev.jsonl --compare evals/results/baseline/report.json

lint:
	.venv/bin/ruff check .
