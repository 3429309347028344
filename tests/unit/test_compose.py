"""The production form (docker-compose.yml, Dockerfile, .env.example) checked for structure, since Docker
cannot run here: the services, their health checks, volumes and start order, and that every command they
run is a real command of the CLI and the WSGI module gunicorn loads exists. The same processes run for
real in tests/integration/test_workers.py."""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from testenv import ROOT

from bpmn_requests.cli import main

APP_SERVICES = ("migrate", "web", "worker", "scheduler")
LONG_RUNNING = ("web", "worker", "scheduler")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]  # type: ignore[no-any-return]


def named_volume(compose: dict[str, Any], service: str, target: str) -> str:
    """The named volume mounted at `target` (a bind mount or none fails)."""
    for mount in services(compose)[service].get("volumes", []):
        source, _, path = mount.partition(":")
        if path.split(":")[0] == target:
            assert source in (compose.get("volumes") or {}), f"{service}: {source} is not a named volume"
            return source
    pytest.fail(f"{service} mounts nothing at {target}")


def test_compose_runs_the_databases_and_every_process_of_the_application(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {"postgres", "redis", *APP_SERVICES}


def test_postgres_and_redis_are_health_checked_and_keep_their_data_in_volumes(compose: dict[str, Any]) -> None:
    postgres, redis = services(compose)["postgres"], services(compose)["redis"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    named_volume(compose, "postgres", "/var/lib/postgresql/data")
    assert redis["image"].startswith("redis:7")
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    named_volume(compose, "redis", "/data")


def test_the_migration_runs_once_on_a_healthy_database_and_the_rest_wait_for_it(compose: dict[str, Any]) -> None:
    migrate = services(compose)["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in LONG_RUNNING:
        depends = services(compose)[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_every_application_service_reads_env_and_stops_gracefully(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        service = services(compose)[name]
        assert service["env_file"] == ".env", name
        assert service["environment"]["BPMN_REQUESTS_BROKER_URL"].startswith("redis://redis:"), name
        assert "@postgres:5432/" in service["environment"]["BPMN_REQUESTS_DATABASE_URL"], name
    for name in LONG_RUNNING:
        service = services(compose)[name]
        assert service["restart"] in ("always", "unless-stopped", "on-failure"), name
        assert re.fullmatch(r"\d+[sm]", service["stop_grace_period"]), name


def test_workers_scale_they_have_no_fixed_name_or_port(compose: dict[str, Any]) -> None:
    worker = services(compose)["worker"]
    assert "container_name" not in worker and "ports" not in worker


@pytest.mark.parametrize("name", ["migrate", "worker", "scheduler"])
def test_each_service_runs_a_real_command_of_the_cli(compose: dict[str, Any], name: str) -> None:
    command = services(compose)[name]["command"]
    assert command[0] == "bpmn-requests"
    result = CliRunner().invoke(main, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def gunicorn_app(command: list[str]) -> str:
    assert command[0] == "gunicorn"
    return command[-1]


def assert_wsgi_target_exists(target: str) -> None:
    """module:attribute names a module that assigns the attribute (checked without importing it: importing
    it builds the application)."""
    module, _, attribute = target.partition(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"no module {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    assert attribute in assigned, f"{module} has no {attribute}"


def test_the_web_runs_gunicorn_on_the_real_wsgi_module_and_checks_its_health(compose: dict[str, Any]) -> None:
    web = services(compose)["web"]
    assert_wsgi_target_exists(gunicorn_app(web["command"]))
    probe = " ".join(web["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", probe)
    assert path is not None and path.group(1) == "/healthz"
    assert any(p.endswith(":8000") for p in web["ports"])


def test_every_variable_compose_needs_is_listed_in_env_example(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    needed = set(re.findall(r"\$\{(\w+)", text))
    listed = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
              if "=" in line and not line.startswith("#")}
    assert "POSTGRES_PASSWORD" in needed and needed <= listed, needed - listed


def dockerfile() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_is_slim_runs_as_a_user_and_installs_pinned_runtime_dependencies_only() -> None:
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    installs = [arg for op, arg in instructions if op == "RUN" and "pip install" in arg]
    assert any("-c constraints.txt ." in arg for arg in installs)
    assert not any("[dev]" in arg or "-e " in arg for arg in installs)


def test_the_image_entry_points_exist() -> None:
    command = ast.literal_eval(next(arg for op, arg in dockerfile() if op == "CMD"))
    assert_wsgi_target_exists(gunicorn_app(command))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["bpmn-requests"] == "bpmn_requests.cli:main"


def test_the_image_leaves_out_secrets_and_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", "instance"} <= ignored


class _Down:
    def uow(self) -> Any:
        raise ConnectionError("connection refused")


def test_healthz_answers_503_when_the_database_does_not() -> None:
    from types import SimpleNamespace

    from bpmn_requests.web import health
    app = Flask(__name__)
    app.extensions["bpmn_requests"] = SimpleNamespace(services=_Down())
    health.register(app)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
    assert response.headers["Cache-Control"] == "no-store"


def test_commands_are_in_exec_form_so_sigterm_reaches_the_process(compose: dict[str, Any]) -> None:
    """A string command runs under a shell, which would take the SIGTERM meant for the process."""
    for name in APP_SERVICES:
        assert isinstance(services(compose)[name]["command"], list), name
