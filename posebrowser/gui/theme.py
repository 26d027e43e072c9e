"""Dark theme, icons and high-DPI set-up, loaded from ``resources/`` next to the package."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

RESOURCES_DIR = Path(__file__).resolve().parent.parent.parent / "resources"

#: Colours shared by the painted views (results borders, mask strip, projection).
CORRECT_COLOUR = QColor("#3ccf6e")
WRONG_COLOUR = QColor("#e0605e")
ACCENT_COLOUR = QColor("#4aa3ff")
MUTED_COLOUR = QColor("#8a909b")


def icon(name: str) -> QIcon:
    """The SVG icon ``resources/icons/<name>.svg`` (an empty icon when missing)."""
    path = RESOURCES_DIR / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def configure_high_dpi() -> None:
    """Call before the QApplication exists: keep fractional scale factors (crisp on 150 % screens)."""
    from PySide6.QtCore import Qt

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style, a dark palette (for widgets the stylesheet does not reach) and ``dark.qss``."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#1e2127"),
        (QPalette.ColorRole.WindowText, "#d7dae0"),
        (QPalette.ColorRole.Base, "#1a1d22"),
        (QPalette.ColorRole.AlternateBase, "#20242a"),
        (QPalette.ColorRole.Text, "#d7dae0"),
        (QPalette.ColorRole.Button, "#2c313a"),
        (QPalette.ColorRole.ButtonText, "#d7dae0"),
        (QPalette.ColorRole.Highlight, "#2f5d8a"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#262a31"),
        (QPalette.ColorRole.ToolTipText, "#d7dae0"),
        (QPalette.ColorRole.PlaceholderText, "#6b717c"),
    ):
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b717c"))  # disabled looks disabled
    app.setPalette(palette)
    stylesheet = RESOURCES_DIR / "style" / "dark.qss"
    if stylesheet.exists():
        icons = (RESOURCES_DIR / "icons").as_posix()
        app.setStyleSheet(stylesheet.read_text(encoding="utf-8").replace("@ICONS@", icons))
    shipped = RESOURCES_DIR / "icons" / "posebrowser.svg"  # the packaged app icon, when present
    app.setWindowIcon(icon("posebrowser") if shipped.exists() else icon("app"))
