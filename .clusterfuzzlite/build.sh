#!/bin/bash -eu
# ClusterFuzzLite's build step: the project's OSS-Fuzz build script, run in
# the image .clusterfuzzlite/Dockerfile describes.
exec "$SRC/nbdref/fuzz/build.sh"
