FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY feedsvc ./feedsvc
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system feedsvc && mkdir -p var && chown feedsvc var
USER feedsvc
EXPOSE 8080
CMD ["feedsvc", "run"]
