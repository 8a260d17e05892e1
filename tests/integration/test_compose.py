"""docker-compose.yml, checked statically (no Docker engine here) against the native stack.

The real-Airflow test runs the same processes with the same settings natively; these tests
keep the compose file from drifting away from what is tested, and from shipping dev-only auth
or default secrets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rewatch.settings import PROJECT_ROOT
from tests.integration.stack import AIRFLOW_PROCESSES, AirflowStack

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {f"airflow-{name}" for name in AIRFLOW_PROCESSES}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def native_env(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("native-env")
    lake = "postgres:dbname=rewatch_lake host=127.0.0.1 port=1 user=postgres"
    return AirflowStack(root / "airflow", "postgresql+psycopg2://u@127.0.0.1:1/airflow", root, root, lake).env


def test_it_has_the_official_airflow_3_structure(compose):
    assert "x-airflow-common" in compose
    assert set(compose["services"]) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        service = compose["services"][name]
        assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
    for name in AIRFLOW_SERVICES | {"postgres"}:
        assert compose["services"][name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES:
        assert compose["services"][name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_each_airflow_process_runs_the_command_the_native_test_runs(compose):
    for name, args in AIRFLOW_PROCESSES.items():
        assert compose["services"][f"airflow-{name}"]["command"] == ["airflow", *args]
    init = " ".join(compose["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert "airflow pools set warehouse_writer 1" in init


def test_settings_match_the_native_stack(compose, native_env):
    env = compose["x-airflow-common"]["environment"]
    for key in (
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__CORE__LOAD_EXAMPLES",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION",
        "DO_NOT_TRACK",
        "GX_ANALYTICS_ENABLED",
        "DBT_SEND_ANONYMOUS_USAGE_STATS",
    ):
        assert str(env[key]) == native_env[key], key
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("://")[0] == "postgresql+psycopg2"
    assert native_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("://")[0] == "postgresql+psycopg2"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/rewatch/dags"
    # Both publish to a lake whose catalog is the stack's PostgreSQL, database rewatch_lake.
    assert {"REWATCH_EXPORTS_DIR", "REWATCH_WAREHOUSE_DIR", "REWATCH_LAKE_CATALOG"} <= set(env) & set(native_env)
    for catalog in (env["REWATCH_LAKE_CATALOG"], native_env["REWATCH_LAKE_CATALOG"]):
        assert catalog.startswith("postgres:dbname=rewatch_lake "), catalog
    init = " ".join(compose["services"]["airflow-init"]["command"])
    assert "rewatch_lake" in init, "airflow-init creates the lake's catalog database"
    volumes = compose["x-airflow-common"]["volumes"]
    assert any(v.endswith(":/data/exports:ro") for v in volumes), "exports are mounted read-only"
    assert any(v.endswith(":/data/warehouse") for v in volumes)


def test_no_development_auth_and_no_default_secrets(compose):
    text = COMPOSE.read_text()
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert "SIMPLE_AUTH_MANAGER" not in text
    for secret in (
        "POSTGRES_PASSWORD",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "_AIRFLOW_ADMIN_PASSWORD",
    ):
        uses = re.findall(r"(?<!\$)\$\{" + secret + r"(:[?-][^}]*)?\}", text)
        assert uses and all(use.startswith(":?") for use in uses), f"{secret} must be required, never defaulted"


def test_the_image_installs_from_the_lock_file():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert dockerfile.count("uv sync --frozen") == 2
    for folder in ("src", "dags", "dbt_project", "expectations"):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert Path(PROJECT_ROOT / ".env.example").is_file()
