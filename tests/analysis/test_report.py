import re
import subprocess
import sys

from png_files import assert_png

from movierec.analysis import (
    ReportSettings,
    build_report,
    model_summary,
    plot_history,
    save_figure,
    write_report,
)

EVERYTHING = ReportSettings(min_ratings=1, map_min_ratings=1, min_genre_movies=1)


def test_history_png(fitted, tmp_path):
    assert_png(save_figure(plot_history(fitted.history), tmp_path / "h.png"), 11, 4)


def test_summary_names_its_source(fitted):
    summary = model_summary(fitted).set_index("item")
    best = min(r.val_rmse for r in fitted.history.records)
    assert summary.loc["validation RMSE", "value"] == f"{best:.4f}"
    assert "history.json" in summary.loc["validation RMSE", "source"]


def test_report_is_self_contained(fitted, tiny_data, tmp_path):
    steps: list[str] = []
    path = write_report(fitted, tiny_data, tmp_path / "out", EVERYTHING, steps.append)
    text = path.read_text(encoding="utf-8")
    assert path.name == "report.html" and len(steps) == 8
    assert text.count('src="data:image/png;base64,') == 7
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # no CDN, no remote assets
    assert "Movie bias ranking" in text and "history.json" in text
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp files left


def test_report_without_biases_explains_why(unbiased, tiny_data):
    text = build_report(unbiased, tiny_data, EVERYTHING)
    assert "learns no movie biases" in text


def test_import_movierec_does_not_load_matplotlib():
    code = ("import sys, movierec, movierec.analysis; "
            "print('matplotlib' in sys.modules, 'sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.split() == ["False", "False"]
