# A stand-in for AWS's Lambda python base images (public.ecr.aws/lambda/python:*), which cannot be pulled here:
# Debian's python3, and boto3 (which AWS's images ship) installed where the emulator's Kubernetes executor points
# DYNASTREAM_CACHE (/opt/dynastream-sdk), by `dynastream runtimes install`, so that a handler pod with a read-only
# root file system finds it.
#
# Context: the `dynastream` binary (any build: it only installs the SDK) and `ca-certificates.crt` (the host's CA
# bundle, for pip's HTTPS), both mounted for the install step only. Built by operator/tests/handler_pods.rs.
ARG BASE=localhost/testenv/debian:bookworm
FROM ${BASE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,source=dynastream,target=/tmp/install/dynastream \
    --mount=type=bind,source=ca-certificates.crt,target=/tmp/install/ca-certificates.crt \
    HOME=/tmp/install-home PIP_CERT=/tmp/install/ca-certificates.crt \
    /tmp/install/dynastream runtimes install --cache-dir /opt/dynastream-sdk boto3 \
    && rm -rf /tmp/install-home \
    && chmod -R a+rX /opt/dynastream-sdk
USER 65532:65532
