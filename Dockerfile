FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY feedsvc ./feedsvc
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system feedsvc && mkdir -p var && chown feedsvc var
USER feedsvc
# config/feedsvc.toml listens on 127.0.0.1, which inside a container is the container's own
# loopback: `docker run -p 8080:8080` reached nothing. Every interface here; set
# FEEDSVC_HTTP__PUBLIC_URL to the address readers use (`run` warns while it is unset).
ENV FEEDSVC_HTTP__HOST=0.0.0.0
EXPOSE 8080
CMD ["feedsvc", "run"]
