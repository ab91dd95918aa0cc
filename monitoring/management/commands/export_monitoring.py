"""Write the Prometheus rules file and the Grafana dashboard for Lepton's metrics."""

from pathlib import Path

from django.core.management.base import BaseCommand

from monitoring.alerting.export import render_files


class Command(BaseCommand):
    help = "Write deploy/prometheus/lepton-rules.yml and deploy/grafana/lepton-dashboard.json."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="deploy", help="Folder to write into (default: deploy).")

    def handle(self, *args, out, **options):
        for relative, text in render_files().items():
            path = Path(out) / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {path}")
