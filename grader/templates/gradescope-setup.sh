#!/usr/bin/env bash
# Written by `grader gradescope`. Gradescope runs this once, as root, when it builds the
# autograder's image ("Autograder Specifications": setup.sh installs the dependencies).
# Choose the Ubuntu 22.04 base image (or newer): the grader needs Python >= 3.10.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-pip
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the grader needs Python >= 3.10, this image has $(python3 --version 2>&1);" \
         "choose the Ubuntu 22.04 base image in the autograder settings" >&2
    exit 1
fi
# Ubuntu 23.04 and later mark the system Python as externally managed (PEP 668); this image
# exists only to grade, so the grader goes into it. Older pips ignore the variable.
export PIP_BREAK_SYSTEM_PACKAGES=1
# The CPU build of torch from PyTorch's own index: the default index would pull the CUDA build
# (gigabytes, and Gradescope's graders have no GPU).
python3 -m pip install --no-cache-dir --index-url @TORCH_INDEX@ @TORCH_REQUIREMENT@
# The grader wheel bundled in this archive; its other dependencies come from PyPI, and the
# constraints keep pip from replacing the torch installed above.
python3 -m pip install --no-cache-dir -c "$here/constraints.txt" "$here"/wheels/*.whl
grader --version
