#!/usr/bin/env bash
# Build the posebrowser folder app with PyInstaller and smoke-test it. Two flavours:
#   packaging/build.sh              CUDA build (the project venv's torch) → dist/posebrowser
#   packaging/build.sh --cpu        CPU build → dist/posebrowser-cpu: a separate venv (build/venv-cpu) with
#                                   the CPU-only torch wheel, so no CUDA library is bundled (`make package
#                                   FLAVOUR=cpu` does the same)
#   packaging/build.sh [--cpu] --smoke   only run the smoke test on an existing build
# The smoke test starts the built app offscreen and, when the shipped models exist, answers a query and
# estimates the pose in a gallery image (mediapipe without OpenCV, see rthook_opencv_absent.py).
# Overrides: PY (python of the CUDA build), CPU_TORCH (the CPU torch/torchvision requirements),
# TORCH_CPU_INDEX (where they come from), CPU_VENV, DIST_DIR, WORK_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FLAVOUR="${FLAVOUR:-cuda}"
SMOKE_ONLY=0
for argument in "$@"; do
    case "$argument" in
        --cpu) FLAVOUR=cpu ;;
        --smoke) SMOKE_ONLY=1 ;;
        *) echo "unknown option $argument" >&2; exit 2 ;;
    esac
done
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
if [[ "$FLAVOUR" == cpu ]]; then
    NAME=posebrowser-cpu
    CPU_VENV="${CPU_VENV:-$ROOT/build/venv-cpu}"
    PY="$CPU_VENV/bin/python"
    WORK_DIR="${WORK_DIR:-$ROOT/build/pyinstaller-cpu}"
else
    NAME=posebrowser
    PY="${PY:-$ROOT/.venv/bin/python}"
    WORK_DIR="${WORK_DIR:-$ROOT/build/pyinstaller}"
fi
APP="$DIST_DIR/$NAME/posebrowser"
export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" POSEBROWSER_FLAVOUR="$FLAVOUR"

cpu_venv() {
    # The PyPI torch wheels for Linux carry CUDA (~3 GB of nvidia libraries); the CPU wheels come from
    # the PyTorch index. Same versions as packaging/constraints.txt, with the +cpu local label.
    local torch_wheels="${CPU_TORCH:-torch==2.14.1+cpu torchvision==0.29.1+cpu}"
    local index="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
    test -x "$PY" || python3 -m venv "$CPU_VENV"
    # shellcheck disable=SC2086  # the requirements are words
    "$PY" -m pip install --quiet --extra-index-url "$index" $torch_wheels
    "$PY" -m pip install --quiet -e "$ROOT" 'pyinstaller>=6.10' 'pyxdg>=0.28'
    "$PY" -c "import torch, sys; sys.exit(f'not a CPU torch: CUDA {torch.version.cuda}' if torch.version.cuda else 0)"
}

if [[ "$SMOKE_ONLY" == 0 ]]; then
    if [[ "$FLAVOUR" == cpu ]]; then cpu_venv; fi
    "$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install --quiet 'pyinstaller>=6.10'
    "$PY" packaging/render_icon.py
    "$PY" -c "import sys; from xdg.DesktopEntry import DesktopEntry; DesktopEntry(sys.argv[1]).validate()" \
        packaging/io.github.posebrowser.PoseBrowser.desktop  # pyxdg (dev extra): the Desktop Entry spec
    if command -v desktop-file-validate >/dev/null; then
        desktop-file-validate packaging/io.github.posebrowser.PoseBrowser.desktop
    fi
    if command -v appstreamcli >/dev/null; then
        appstreamcli validate --no-net packaging/io.github.posebrowser.PoseBrowser.metainfo.xml
    fi
    "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath "$DIST_DIR" --workpath "$WORK_DIR" packaging/posebrowser.spec
    SHARE="$DIST_DIR/$NAME/share"
    install -D -m 644 packaging/io.github.posebrowser.PoseBrowser.desktop \
        "$SHARE/applications/io.github.posebrowser.PoseBrowser.desktop"
    install -D -m 644 packaging/io.github.posebrowser.PoseBrowser.metainfo.xml \
        "$SHARE/metainfo/io.github.posebrowser.PoseBrowser.metainfo.xml"
    install -D -m 644 resources/icons/posebrowser.svg \
        "$SHARE/icons/hicolor/scalable/apps/io.github.posebrowser.PoseBrowser.svg"
    install -D -m 644 resources/icons/posebrowser-256.png \
        "$SHARE/icons/hicolor/256x256/apps/io.github.posebrowser.PoseBrowser.png"
    # Symbol tables and debug information (~190 MB, 85 of them libtorch_cpu's) are not needed to run;
    # --strip-unneeded keeps every symbol another library links against. The libraries that auditwheel
    # vendored into *.libs folders stay as they are: patchelf rewrote them, and stripping one breaks its
    # page alignment (numpy's OpenBLAS then fails to load).
    if command -v strip >/dev/null && command -v file >/dev/null; then
        find "$DIST_DIR/$NAME/_internal" -type f -name '*.so*' -not -path '*.libs/*' -print0 |
            while IFS= read -r -d '' library; do
                if file -b "$library" | grep -q 'not stripped'; then strip --strip-unneeded "$library"; fi
            done
    fi
    # Files written through mkstemp are 0600; make the bundle readable for every user.
    chmod -R a+rX "$DIST_DIR/$NAME"
    echo "== $NAME: $(du -sh "$DIST_DIR/$NAME" | cut -f1); the largest parts of _internal:"
    du -sm "$DIST_DIR/$NAME/_internal"/* | sort -rn | head -12
fi

echo "== smoke test: $APP"
test -x "$APP"
if [[ "$FLAVOUR" == cpu ]]; then
    cuda_files="$(find "$DIST_DIR/$NAME" \( -name 'libcudart*' -o -name 'libtorch_cuda*' -o -name 'libcudnn*' \
        -o -path '*/nvidia/*' \) -print -quit)"
    if [[ -n "$cuda_files" ]]; then
        echo "the CPU build bundles CUDA libraries, e.g. $cuda_files" >&2
        exit 1
    fi
fi
seconds_since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }
start=$EPOCHREALTIME
"$APP" --version
echo "== --version answered in $(seconds_since "$start") s"
"$APP" --help >/dev/null
start=$EPOCHREALTIME
"$APP" gui --quit-after-shown
echo "== window shown and closed in $(seconds_since "$start") s"
"$PY" - "$APP" <<'PYEOF'
import json, subprocess, sys, time
from pathlib import Path
app = sys.argv[1]
models = Path(app).parent / "_internal" / "models"
if not (models / "image_net.json").exists():
    print("smoke test: no shipped models in the build; the query step is skipped")
    raise SystemExit(0)
began = time.perf_counter()
done = subprocess.run([app, "query", "--id", "0", "--k", "5", "--json"], capture_output=True, text=True,
                      timeout=600)
if done.returncode != 0:
    raise SystemExit(f"query failed ({done.returncode}): {done.stderr[-2000:]}")
answer = json.loads(done.stdout)
print(f"smoke test: query answered in {time.perf_counter() - began:.1f} s:", json.dumps(answer)[:300])
# The pose estimator (mediapipe) runs in a build without OpenCV (packaging/rthook_opencv_absent.py).
photo = Path(app).parent / "_internal" / "resources" / "gallery" / "images" / "000000.jpg"
began = time.perf_counter()
done = subprocess.run([app, "estimate", str(photo), "--json", "--no-cache"], capture_output=True, text=True,
                      timeout=600)
if done.returncode != 0:
    raise SystemExit(f"estimate failed ({done.returncode}): {done.stderr[-2000:]}")
(estimate,) = json.loads(done.stdout)["images"]
if estimate["people_found"] != 1:
    raise SystemExit(f"estimate found {estimate['people_found']} people on a render of one: {estimate}")
print(f"smoke test: pose estimated in {time.perf_counter() - began:.1f} s:", estimate["status"],
      estimate["mean_confidence"])
# A short t-SNE map of the gallery (openTSNE, scikit-learn, scipy).
import tempfile
with tempfile.TemporaryDirectory() as folder:
    began = time.perf_counter()
    done = subprocess.run([app, "project", "--method", "tsne", "--iterations", "50", "--out",
                           str(Path(folder) / "map.csv")], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"t-SNE failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = (Path(folder) / "map.csv").read_text().splitlines()
    print(f"smoke test: t-SNE map of {len(rows) - 1} items in {time.perf_counter() - began:.1f} s")
PYEOF
echo "== smoke test passed"
