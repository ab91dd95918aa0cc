"""List Lepton's LEPTON_* variables, check them against the README, or print .env.example."""

from django.core.management.base import BaseCommand, CommandError

from lepton import envdoc


class Command(BaseCommand):
    help = (
        "Every LEPTON_* variable the code reads, with the README's default and meaning. "
        "--check fails while code and README disagree; --example prints .env.example."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--check", action="store_true", help="fail unless the README documents exactly what the code reads")
        mode.add_argument("--example", action="store_true", help="print .env.example (redirect it into the file)")

    def handle(self, *args, check=False, example=False, **options):
        undocumented, unread = envdoc.drift()
        if check or example:
            problems = [f"read by the code but not in the README's table: {name}" for name in undocumented]
            problems += [f"in the README's table but never read: {name}" for name in unread]
            if problems:
                raise CommandError("\n".join(problems))
        if example:
            self.stdout.write(envdoc.render_example(), ending="")
            return
        rows = envdoc.documented()
        for name in sorted(envdoc.read_by_code()):
            row = rows.get(name)
            self.stdout.write(f"{name}\t{row.default if row else '(undocumented)'}\t{row.meaning if row else ''}")
