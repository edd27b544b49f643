#!/usr/bin/env bash
# Install whatever Debian 12 packages ree needs and are missing, then
# configure and build ree in ./build (or $REE_BUILD_DIR).
#   scripts/bootstrap.sh            # build ree, ree-view and the tests
# Environment: REE_BUILD_DIR (default build), REE_JOBS (default: nproc),
#              REE_CMAKE_ARGS (extra arguments for cmake).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ make pkg-config git
  libsentencepiece-dev libflatbuffers-dev flatbuffers-compiler libxxhash-dev
  libimgui-dev libglfw3-dev libgl-dev libcli11-dev doctest-dev nlohmann-json3-dev libsodium-dev
  xvfb xauth libgl1-mesa-dri zlib1g-dev
  python3
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${REE_BUILD_DIR:-build}
jobs=${REE_JOBS:-$(nproc)}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release ${REE_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$jobs"
echo "bootstrap: built into $build_dir"
