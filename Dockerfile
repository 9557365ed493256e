# One image for the API and the workers; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml setup.cfg README.md ./
COPY predictq ./predictq
COPY api ./api
COPY worker ./worker
COPY models ./models
COPY ui ./ui
RUN pip install --no-cache-dir . \
    && useradd --create-home predictq \
    && mkdir -p /models /tmp/metrics && chown predictq /models /tmp/metrics
USER predictq
EXPOSE 8000
CMD ["predictq", "api"]
