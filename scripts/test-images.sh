#!/usr/bin/env bash
# The container image and the podman deployment (label `image`): builds the
# images with deploy/scripts/local-images.sh on first use (long: the project is
# compiled inside the build container), then runs deploy_image and deploy_stack.
set -euo pipefail
cd "$(dirname "$0")/.."
ETL_TEST_IMAGES=1 exec bash scripts/test.sh -L image
