# One image, two binaries: /usr/local/bin/dynastream (the emulator, the entrypoint) and
# /usr/local/bin/dynastream-operator (the Kubernetes operator, which starts emulators from this same image).
#
#   docker build -t dynastream .                      # builds from source (the last stage, `runtime`)
#   docker build --target prebuilt -f Dockerfile DIR  # packs binaries built elsewhere: DIR holds the two binaries
#
# BASE must provide glibc (the binaries are linked against it) and nothing else.
ARG BASE=debian:bookworm-slim

# NB: `prebuilt` is the first stage so that Docker's legacy builder, which builds every stage before the target,
# never needs the Rust image: the tests build this stage on machines where no image can be pulled.
FROM ${BASE} AS prebuilt
COPY dynastream dynastream-operator /usr/local/bin/
# Numeric, so that the kubelet can verify runAsNonRoot without a passwd entry.
USER 65532:65532
EXPOSE 4566
ENTRYPOINT ["/usr/local/bin/dynastream"]

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin dynastream --bin dynastream-operator \
    && cp target/release/dynastream target/release/dynastream-operator /usr/local/bin/

FROM ${BASE} AS runtime
COPY --from=build /usr/local/bin/dynastream /usr/local/bin/dynastream-operator /usr/local/bin/
USER 65532:65532
EXPOSE 4566
ENTRYPOINT ["/usr/local/bin/dynastream"]
