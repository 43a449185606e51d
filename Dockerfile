# The IOC's one image: dashboard (gunicorn app:server), `ioc ingest`, `ioc simulate`, `ioc migrate`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IOC_HTTP_HOST=0.0.0.0

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent ioc

# The IOC speaks English, Chinese and Thai (docs/LANGUAGES.md): CJK and Thai fonts, so anything that renders a page
# in the image (a headless browser for screenshots or the browser tests) draws the words, not empty boxes.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk fonts-thai-tlwg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies in their own layer, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Installed for the `ioc` command; the source stays in /app (root-owned, read-only to the app) because the
# dashboard finds its assets/ and pages/ beside app.py, and gunicorn imports app.py from the working directory.
# Importing the app builds the dashboard (it connects to nothing), so a broken image fails here, not in production;
# the gettext catalogues compile in memory on first use (i18n/catalog.py), and compiling them here fails a broken .po.
RUN pip install --no-deps . && python -c "import app, cli.main" \
    && python -c "from i18n.catalog import translations as t; t('zh-CN'); t('th')"

USER ioc
EXPOSE 8050
CMD ["gunicorn", "app:server", "--bind", "0.0.0.0:8050", "--workers", "2", "--threads", "8", "--access-logfile", "-"]
