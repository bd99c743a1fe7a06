"""One place decides how a simulated teacher is shown."""

from __future__ import annotations

from zeroshot_distill.reporting import SIMULATED_BANNER
from zeroshot_distill.teachers import TeacherConfig
from zeroshot_distill.teachers import simulated_notice as notice


def test_is_simulated_reads_params_and_configs() -> None:
    assert notice.is_simulated({"backend": "simulated", "model": "m"})
    assert not notice.is_simulated({"backend": "openai", "model": "gpt-4o-mini"})
    assert not notice.is_simulated(None)
    assert notice.is_simulated(TeacherConfig.from_params({"backend": "simulated", "model": "m"}))


def test_tag_titles_banner_and_model_name() -> None:
    assert notice.mlflow_tag(True) == {"teacher_simulated": "true"}
    assert notice.mlflow_tag(False) == {"teacher_simulated": "false"}
    assert notice.report_title("# Report", True) == "# Report (SIMULATED TEACHER)"
    assert notice.report_title("# Report", False) == "# Report"
    assert notice.plot_title("OPRO progression", True) == "OPRO progression (SIMULATED teacher)"
    assert notice.banner_lines(False) == []
    assert notice.banner_lines(True) == [f"> {notice.REPORT_BANNER}", ""]
    assert notice.model_name("gpt-4o-mini") == "simulated:gpt-4o-mini"
    assert notice.model_name("simulated-nli") == "simulated-nli"


def test_the_reports_banner_is_the_notice() -> None:
    # reporting/ still exports its own name for the banner; it must stay the same words.
    assert SIMULATED_BANNER == notice.REPORT_BANNER
