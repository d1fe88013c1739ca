"""The generated client against a real server: list figures, enter one, meet a
412, read a year-on-year comparison.

Run by .ci/run after generate.sh:
    CHITIEU_BIN=target/debug/chitieu PYTHONPATH=target/python-client pytest examples/python-client
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from chitieu_client import AuthenticatedClient, Client
from chitieu_client.api.analysis import year_over_year
from chitieu_client.api.observations import (
    create_observation,
    export_observations,
    get_observation,
    list_observations,
    update_observation,
)
from chitieu_client.models import (
    ExportFormat,
    Observation,
    ObservationInput,
    ObservationUpdate,
    PageObservation,
    Problem,
    WrittenObservation,
)

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("CHITIEU_BIN", ROOT / "target" / "debug" / "chitieu"))


@pytest.fixture(scope="module")
def server():
    """The built server on a fresh SQLite file, and an admin token made with the CLI."""
    with tempfile.TemporaryDirectory() as work:
        env = dict(
            os.environ,
            DATABASE_URL=str(Path(work) / "chitieu.db"),
            BIND_ADDR="127.0.0.1:0",
            CHITIEU_LOG_FORMAT="json",
            RUST_LOG="info",
        )
        # The server seeds from seed-data/ in its working directory.
        process = subprocess.Popen(
            [str(BINARY)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            port = None
            deadline = time.monotonic() + 60
            while port is None and time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                fields = json.loads(line).get("fields", {})
                if "port" in fields:
                    port = fields["port"]
            assert port, "the server did not say its port"
            token = subprocess.run(
                [str(BINARY), "token", "create", "--name", "python-client", "--role", "admin"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            yield f"http://127.0.0.1:{port}", token
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_list_enter_conflict_and_compare(server):
    base_url, token = server
    reader = Client(base_url=base_url)
    editor = AuthenticatedClient(base_url=base_url, token=token)

    # List figures: a typed page of named Observation items.
    page = list_observations.sync(
        client=reader, committee="haiphong-business-bloc", indicator="revenue"
    )
    assert isinstance(page, PageObservation)
    assert len(page.items) >= 1
    assert all(isinstance(item, Observation) for item in page.items)
    revenue_2021 = next(item for item in page.items if item.period == "2021")
    assert revenue_2021.value == "27701"

    # Enter one: 201 with the figure, its ETag and Location.
    created = create_observation.sync_detailed(
        client=editor,
        body=ObservationInput.from_dict(
            {
                "committee": "haiphong-business-bloc",
                "indicator": "revenue",
                "period": "quý III/2022",
                "value": "7012.5",
                "status": "E",
                "reason": "entered by the generated client",
            }
        ),
    )
    assert created.status_code == 201, created.content
    figure = created.parsed
    # The figure, with any plausibility warnings (none for this one).
    assert isinstance(figure, WrittenObservation)
    assert figure.period == "2022-Q3" and figure.value == "7012.5"
    assert figure.warnings == []
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/api/v1/observations/{figure.id}"

    # Someone else corrects it first ...
    first = update_observation.sync_detailed(
        figure.id,
        client=editor,
        body=ObservationUpdate.from_dict({"value": "7021.5", "reason": "typo"}),
        if_match=created.headers["etag"],
    )
    assert first.status_code == 200, first.content
    assert first.headers["etag"] == '"2"'
    # ... so a change made from revision 1 meets a 412, as a typed Problem.
    stale = update_observation.sync_detailed(
        figure.id,
        client=editor,
        body=ObservationUpdate.from_dict({"value": "7000", "reason": "stale"}),
        if_match='"1"',
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, Problem)
    assert stale.parsed.status == 412
    assert get_observation.sync(figure.id, client=reader).value == "7021.5"

    # A year-on-year comparison, typed.
    report = year_over_year.sync(
        client=reader, committee="haiphong-business-bloc", indicator="revenue", period="2021"
    )
    assert report.period == "2021" and report.base_period == "2020"
    item = report.items[0]
    assert item.current.value == "27701"
    assert item.implied_previous.value == "25720.5"


def test_export_is_a_file(server):
    base_url, _ = server
    reader = Client(base_url=base_url)
    file = export_observations.sync(
        client=reader, committee="haiphong-business-bloc", format_=ExportFormat.CSV
    )
    text = file.payload.read().decode("utf-8")
    assert text.startswith("id,revision,committee,indicator,period")
    assert "haiphong-business-bloc" in text
