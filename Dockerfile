# syntax=docker/dockerfile:1
#
# One small image holding every m18-* binary (m18-run, m18-target, m18-probe,
# m18-gate, m18-history, m18-report, …), for runners that prefer containers
# to building from source:
#
#   docker build -t m18-gate --build-arg VERSION=v1.2.3 .
#   docker run --rm m18-gate m18-run --scenario ci/smoke
#   docker run --rm -v "$PWD:/work" -w /work m18-gate m18-gate compare --base a.json --head b.json
#
# Size: about 47 MB. The final stage is distroless/static (about 2 MB) plus
# the static binaries, stripped (-s -w) and built with -trimpath: 45.4 MB for
# m18-gate 3.1, m18-history 9.5, m18-probe 4.6, m18-report 7.1, m18-run 12.0
# and m18-target 9.1 MB, measured by building them exactly so with Go 1.26.8
# for linux/amd64 (Docker itself cannot run where this was written).
#
# Scripts of the action (scripts/action/*.sh) need bash and git and are not
# in this image: the action builds from source instead. m18-probe finds no
# `perf` here, so it reports hardware counters as unavailable.

# Bases are pinned by digest, the tag kept beside it for the reader: the tag
# says what the image is, the digest decides which image is used, and moving
# to a newer one is a reviewed commit (docker buildx imagetools inspect
# golang:1.26 prints the current digest).
FROM golang:1.26@sha256:595c7847cff97c9a9e76f015083c481d26078f961c9c8dca3923132f51fe12f1 AS build
WORKDIR /src
# Modules first, so that source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/engram/m18-gate/internal/version.stamped=${VERSION}" \
      -o /out/ ./cmd/...

FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/ /usr/local/bin/
# distroless's nonroot user (uid 65532); nothing here needs root.
USER 65532:65532
WORKDIR /home/nonroot
CMD ["m18-run", "--help"]
