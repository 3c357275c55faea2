"""The advisor service: a project's performance and security reports, and the insights in them.

Appwrite 1.9 stores reports that an analyzer outside the self-hosted server writes; a self-hosted
server, like the embedded engine, has none of its own. So the lists are empty (their queries still
checked as Appwrite checks them) and a report or insight asked for by id is not found.
"""

from __future__ import annotations

from ..errors import AppwriteError
from ..listing import list_models
from ..registry import Call, handles

# Appwrite's queryable attributes of reports (Validator/Queries/Reports.php).
REPORT_ATTRIBUTES = {"appId", "type", "targetType", "target", "analyzedAt"}


def report_not_found(report_id: str) -> AppwriteError:
    return AppwriteError("report_not_found", f"Report with the requested ID '{report_id}' could not be found.")


@handles("advisor.listReports")
def list_reports(call: Call) -> dict:
    total, page = list_models(
        [], call.params.get("queries"), REPORT_ATTRIBUTES, count=call.params.get("total", True), noun="report"
    )
    return {"total": total, "reports": page}


@handles("advisor.getReport", "advisor.deleteReport", "advisor.listInsights", "advisor.getInsight")
def missing_report(call: Call) -> dict:
    raise report_not_found(call.params["reportId"])
