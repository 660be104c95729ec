#!/bin/sh
# Installs the "out-of-the-box" PyTorch anchor for `Vivace.Bench anchor`: Debian 12's own python3-torch (1.13.1),
# plus python3-onnx/numpy so bench/anchor/minilm_torch.py can load the real all-MiniLM-L6-v2 weights from model.onnx.
# Idempotent: does nothing when /usr/bin/python3 already imports torch, onnx and numpy.
set -e
if /usr/bin/python3 -c 'import torch, onnx, numpy' >/dev/null 2>&1; then
    echo "python3-torch already installed: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy
/usr/bin/python3 -c 'import torch; print("python3-torch", torch.__version__)'
