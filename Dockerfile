# One image for every process of bpmn-requests: the web (gunicorn), workers, the scheduler and the one-shot
# migration (docker-compose.yml starts each with its own command). No development tools inside.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# The pinned versions of constraints.txt, the runtime dependencies of pyproject.toml only (no [dev]).
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install -c constraints.txt . && rm -rf src build

# What the settings' defaults point at, relative to /app: diagrams, forms, the sanctions list.
COPY processes ./processes
COPY forms ./forms
COPY data ./data
# Attachments live on a volume (see docker-compose.yml); created here so the volume belongs to `app`.
RUN mkdir -p instance/uploads && chown -R app:app instance

USER app
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "bpmn_requests.web.wsgi:app"]
