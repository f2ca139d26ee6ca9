# syntax=docker/dockerfile:1
#
# Trailwatch: a static binary on distroless, running as a non-root user.
#
#   docker build -t trailwatch .
#   docker run -p 8080:8080 -v trailwatch-data:/data \
#     -e TRAILWATCH_INGEST_API_KEY=x-api-key=SECRET trailwatch
#
# The default CMD listens off loopback, so serve needs ingest authentication:
# TRAILWATCH_INGEST_API_KEY (NAME=VALUE) in the environment, or
# --ingest-api-key in the command; without either it refuses to start.
#
# Health: the runtime image has no shell and no curl, so there is no
# HEALTHCHECK here. Point the orchestrator's HTTP check at GET /healthz on
# port 8080 (Kubernetes probes, an ALB target group, ECS service health).
# See docs/deploy.md.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/trailwatch ./cmd/trailwatch \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trailwatch /usr/local/bin/trailwatch
# /data belongs to the nonroot user (65532), so a fresh volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV TRAILWATCH_DATA=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["trailwatch"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data", "/data"]
