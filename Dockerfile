# rewatch's Airflow image: the project and its locked dependencies (uv.lock), nothing else.
# docker-compose.yml builds it once and runs every Airflow process from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    AIRFLOW_HOME=/opt/airflow \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    PATH=/opt/venv/bin:$PATH

RUN pip install --no-cache-dir "uv>=0.5,<1" \
    && useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow

WORKDIR /opt/rewatch
# Dependencies first (cached until the lock changes), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra deploy --no-install-project
COPY src ./src
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
RUN uv sync --frozen --no-dev --extra deploy \
    && mkdir -p /data/exports /data/warehouse \
    && chown -R 50000:0 /opt/airflow /data /opt/rewatch/dbt_project

USER 50000
