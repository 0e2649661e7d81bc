# The infoimb dashboard: gunicorn serving app:server (the same image runs the Celery workers,
# see docker-compose.yml). Build: docker build -t infoimb:local .
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8050 \
    INFOIMB_CACHE_DIR=/var/lib/infoimb \
    NUMBA_CACHE_DIR=/var/cache/infoimb/numba \
    NUMBA_THREADING_LAYER=forksafe

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# A user without privileges owns the writable directories: the shared cache (sessions,
# results, background-job cache; a volume shared with the workers) and numba's disk cache.
RUN groupadd --system --gid 10001 infoimb \
    && useradd --system --uid 10001 --gid infoimb --home-dir /app --no-create-home --shell /usr/sbin/nologin infoimb \
    && mkdir -p /var/lib/infoimb /var/cache/infoimb/numba \
    && chown -R infoimb:infoimb /var/lib/infoimb /var/cache/infoimb

# The code (read-only for the app's user).
COPY infoimb ./infoimb
COPY pages ./pages
COPY assets ./assets
COPY app.py gunicorn.conf.py ./

USER infoimb

# Compile every numba kernel into the image's numba cache once, so that a container starts
# warm (each web worker and Celery worker still loads them at import).
RUN python -c "from infoimb.web import runtime; runtime.use_forksafe_numba(); print('numba warm-up %.1f s' % runtime.warm_numba())"

EXPOSE 8050

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8050'), timeout=8)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "--no-control-socket", "app:server"]
