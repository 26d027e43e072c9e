#!/usr/bin/env bash
# Build the posebrowser folder app with PyInstaller and smoke-test it.
#   packaging/build.sh            build into dist/posebrowser, then run the smoke test
#   packaging/build.sh --smoke    only run the smoke test on an existing build
# The smoke test starts the built app offscreen and, when the shipped models exist, answers a query.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
APP="$ROOT/dist/posebrowser/posebrowser"
export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

if [[ "${1:-}" != "--smoke" ]]; then
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
        --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/posebrowser.spec
    install -D -m 644 packaging/io.github.posebrowser.PoseBrowser.desktop \
        dist/posebrowser/share/applications/io.github.posebrowser.PoseBrowser.desktop
    install -D -m 644 packaging/io.github.posebrowser.PoseBrowser.metainfo.xml \
        dist/posebrowser/share/metainfo/io.github.posebrowser.PoseBrowser.metainfo.xml
    install -D -m 644 resources/icons/posebrowser.svg \
        dist/posebrowser/share/icons/hicolor/scalable/apps/io.github.posebrowser.PoseBrowser.svg
    install -D -m 644 resources/icons/posebrowser-256.png \
        dist/posebrowser/share/icons/hicolor/256x256/apps/io.github.posebrowser.PoseBrowser.png
    # Files written through mkstemp are 0600; make the bundle readable for every user.
    chmod -R a+rX dist/posebrowser
fi

echo "== smoke test: $APP"
test -x "$APP"
"$APP" --version
"$APP" --help >/dev/null
"$APP" gui --quit-after-shown
"$PY" - "$APP" <<'PYEOF'
import json, subprocess, sys
from pathlib import Path
app = sys.argv[1]
models = Path(app).parent / "_internal" / "models"
if not (models / "image_net.json").exists():
    print("smoke test: no shipped models in the build; the query step is skipped")
    raise SystemExit(0)
done = subprocess.run([app, "query", "--id", "0", "--k", "5", "--json"], capture_output=True, text=True,
                      timeout=600)
if done.returncode != 0:
    raise SystemExit(f"query failed ({done.returncode}): {done.stderr[-2000:]}")
answer = json.loads(done.stdout)
print("smoke test: query answered:", json.dumps(answer)[:300])
PYEOF
echo "== smoke test passed"
