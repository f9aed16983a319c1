#!/usr/bin/env bash
# Installs the Debian 12 packages chipcast needs (nothing is downloaded from anywhere else).
# Usage: scripts/setup.sh [--with-hip] [--with-kokkos] [--with-mpi] [--with-slurm] [--with-fuzz] [--with-chromium] [--all]
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  librandom123-dev          # Philox4x32-10 counter-based RNG (header-only)
  libboost-math-dev         # distributions, intervals, test oracles
  libtomlplusplus-dev       # TOML scenarios
  nlohmann-json3-dev        # summary.json
  libcli11-dev              # command line
  libfmt-dev                # formatting
  libssl-dev                # SHA-256 of the resolved config (OpenSSL EVP)
  libgtest-dev              # unit tests
  python3-dev python3-pybind11 pybind11-dev  # the Python package (chipcast._core, pybind11)
  python3-numpy python3-pandas python3-matplotlib python3-tqdm  # its DataFrames, charts, progress bar
  python3-pytest python3-nbclient python3-ipykernel python3-nbformat  # its tests (examples/forecast.ipynb run by nbclient)
)
for arg in "$@"; do
  case "$arg" in
    --with-hip) packages+=(hipcc libomp-15-dev) ;;  # libomp: hipcc's clang 15 compiles the OpenMP backend
    --with-kokkos) packages+=(libtrilinos-kokkos-dev) ;;
    --with-mpi) packages+=(libopenmpi-dev openmpi-bin) ;;
    --with-slurm) packages+=(slurmctld slurmd slurm-client munge) ;;  # tests/slurm: a one-node Slurm on 127.0.0.1
    --with-fuzz) packages+=(clang-15 libomp-15-dev) ;;  # libFuzzer, ASan, UBSan (libclang-common-15-dev) and its OpenMP
    --with-chromium) packages+=(chromium) ;;  # tests/python/test_plotting_report.py opens report.html headless
    --all) packages+=(hipcc libomp-15-dev libtrilinos-kokkos-dev libopenmpi-dev openmpi-bin clang-15
                      slurmctld slurmd slurm-client munge chromium) ;;
    *) echo "setup.sh: unknown option '$arg' (use --with-hip, --with-kokkos, --with-mpi, --with-slurm, --with-fuzz, --with-chromium or --all)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#packages[@]} packages already installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
