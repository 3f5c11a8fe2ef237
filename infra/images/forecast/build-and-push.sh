#!/usr/bin/env bash
# Called by terraform (infra/envs/example, terraform_data.forecast_image): builds the forecast
# image from the packaged tree and pushes it. Needs docker (with BuildKit) and the AWS CLI.
# Environment: IMAGE (repo:tag), REGISTRY, REGION, CONFIG (path of cascadeflow.yaml), TREE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
config_dir="$(mktemp -d)"
trap 'rm -rf "$config_dir"' EXIT
cp "$CONFIG" "$config_dir/cascadeflow.yaml"
aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"
docker build --platform linux/amd64 --provenance=false \
    --build-context "config=$config_dir" -t "$IMAGE" -f "$here/Dockerfile" "$TREE"
docker push "$IMAGE"
