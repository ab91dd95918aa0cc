# One image for every Lepton service (web, workers, beat, flower, migrate); each
# docker-compose service only picks its command. Default: the web server.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LEPTON_DATA_DIR=/app/var

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code belongs to root and is read-only for the app user; only the data folder
# (beat's schedule file, static root) is writable, and private to the app user (its
# static/ subfolder is a volume the proxy reads).
COPY . .
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin lepton \
    && mkdir -p /app/var/static \
    && chown -R lepton:lepton /app/var \
    && chmod 0700 /app/var
USER lepton

EXPOSE 8000
# Same arguments as `make run` (lepton/run.py process_commands()["web"]), bound to all
# interfaces of the container.
CMD ["python", "-m", "gunicorn", "lepton.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "--worker-class", "lepton.web_worker.WebWorker", "--access-logfile", "-", "--no-control-socket"]
