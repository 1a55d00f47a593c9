# A stand-in for AWS's Lambda node base images (public.ecr.aws/lambda/nodejs:*), which cannot be pulled here:
# Debian's node, and the SDKs AWS's images ship (aws-sdk v2 for nodejs16.x and older, AWS SDK v3 for nodejs18.x
# and newer) installed where the emulator's Kubernetes executor points DYNASTREAM_CACHE (/opt/dynastream-sdk),
# by `dynastream runtimes install`, so that a handler pod with a read-only root file system finds them.
#
# Context: the `dynastream` binary (any build: it only installs the SDKs) and `ca-certificates.crt` (the host's
# CA bundle, for npm's HTTPS), both mounted for the install step only. Built by operator/tests/handler_pods.rs.
ARG BASE=localhost/testenv/debian:bookworm
FROM ${BASE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
RUN --mount=type=bind,source=dynastream,target=/tmp/install/dynastream \
    --mount=type=bind,source=ca-certificates.crt,target=/tmp/install/ca-certificates.crt \
    HOME=/tmp/install-home npm_config_cafile=/tmp/install/ca-certificates.crt \
    /tmp/install/dynastream runtimes install --cache-dir /opt/dynastream-sdk aws-sdk-v2 aws-sdk-v3 \
    && rm -rf /tmp/install-home \
    && chmod -R a+rX /opt/dynastream-sdk
USER 65532:65532
