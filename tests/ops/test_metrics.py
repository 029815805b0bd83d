"""The node_exporter textfile: the four metrics the issue names, written atomically."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from tests.integration.conftest import World

SAMPLE = re.compile(r'^([a-z_]+)(\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+)$')


@dataclass
class MetricsWorld(World):
    """The integration world with `metrics.textfile` configured."""

    @property
    def textfile(self) -> Path:
        return self.home / "node-exporter" / "renewer.prom"

    def write_config(self) -> Path:
        path = super().write_config()
        with path.open("a") as config:
            config.write(f"metrics:\n  textfile: {self.textfile}\n")
        return path


def samples(path: Path) -> dict[str, float]:
    """Parse the exposition format strictly enough: HELP/TYPE comments, then samples."""
    found: dict[str, float] = {}
    for line in path.read_text().splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        found[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return found


def metrics_world(world: World) -> MetricsWorld:
    made = MetricsWorld(vault=world.vault, home=world.home, capsys=world.capsys)
    made.display = world.display
    made.textfile.parent.mkdir()
    return made


class TestTextfile:
    def test_a_run_writes_the_four_metrics(self, world: World) -> None:
        metrics = metrics_world(world)
        metrics.write(metrics.mint_ours())

        assert metrics.cli("run").code == 0

        values = samples(metrics.textfile)
        assert values['renewer_token_ttl_seconds{name="devvm"}'] > 30 * 86400
        assert values["renewer_last_run_success"] == 1
        assert values["renewer_last_run_timestamp_seconds"] > 1_700_000_000
        assert values["renewer_heals_total"] == 0
        assert stat.S_IMODE(metrics.textfile.stat().st_mode) == 0o644  # node_exporter reads it

    def test_a_heal_counts_and_a_drift_fails_the_run(self, world: World) -> None:
        metrics = metrics_world(world)
        metrics.write(metrics.mint_ours())
        assert metrics.cli("run").code == 0
        # A reader holding the old file keeps the old content: it was replaced by
        # rename, not rewritten in place (and holding it open pins its inode number).
        with metrics.textfile.open("rb") as reader:
            before = reader.read()
            metrics.write(metrics.admin_clobber())
            assert metrics.cli("run").code == 0
            assert samples(metrics.textfile)["renewer_heals_total"] == 1

            metrics.write(metrics.weak_clobber())
            assert metrics.cli("run").code == 1

            assert samples(metrics.textfile)["renewer_last_run_success"] == 0
            reader.seek(0)
            assert reader.read() == before
            assert os.fstat(reader.fileno()).st_ino != metrics.textfile.stat().st_ino
        assert [p.name for p in metrics.textfile.parent.iterdir()] == ["renewer.prom"]  # no temp

    def test_an_unwritable_textfile_is_logged_not_fatal(self, world: World) -> None:
        """The tokens are renewed all the same; the error says which file and why."""
        metrics = metrics_world(world)
        metrics.textfile.parent.rmdir()
        metrics.write(metrics.mint_ours())

        result = metrics.cli("run")

        assert result.code == 0
        failed = result.event("metrics.write_failed")
        assert failed["level"] == "error"
        assert str(metrics.textfile) in failed["summary"]
