"""Pages for the authority a deployment rests on beyond its internal authorisation: the
independent authority's decision (EU AI Act Art. 5(3)) and the force-wide assessments.
Thin, like views.py: access via core.access, rules in services, reads in selectors."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core import access
from core.services import audit_record
from deployments import selectors_authority as authority
from deployments import services
from deployments.forms import AssessmentForm, IndependentDecisionForm
from deployments.views import _get, _submitted


def _independent_context(request, deployment, form=None) -> dict:
    return {
        "d": deployment,
        "decisions": deployment.independent_authorisations.select_related("recorded_by"),
        "in_force": authority.independent_decision(deployment),
        "blockers": authority.independent_blockers(deployment),
        "form": form or IndependentDecisionForm(),
        "may_record": access.can(request.user, "deployment", "record_independent", deployment),
        "urgent_hours": settings.LFR_URGENT_AUTHORISE_HOURS,
    }


@login_required
def independent(request, pk):
    """The independent authority's decisions on this deployment, and the form to record one."""
    deployment = _get(request, pk, "view")
    audit_record(
        actor=request.user,
        action="deployment.view",
        obj=deployment,
        details={"screen": "independent_authorisation"},
    )
    context = _independent_context(request, deployment)
    return render(request, "deployments/independent.html", context)


@login_required
@require_POST
def independent_record(request, pk):
    deployment = _get(request, pk, "record_independent")
    form = IndependentDecisionForm(request.POST)

    def record(data):
        services.independent_authorisation_record(deployment=deployment, by=request.user, **data)

    if _submitted(request, form, record, "Independent decision recorded."):
        return redirect("deployments:independent", pk=pk)
    context = _independent_context(request, deployment, form)
    return render(request, "deployments/independent.html", context, status=400)


def _assessments_context(request, form=None) -> dict:
    return {
        "rows": authority.assessments_list(),
        "blockers": authority.assessment_blockers(),
        "required": settings.LFR_REQUIRED_ASSESSMENTS,
        "form": form or AssessmentForm(),
        "may_record": access.can(request.user, "assessment", "record"),
    }


@login_required
def assessments(request):
    """The force's assessments by reference, with versions and review dates."""
    access.require(request.user, "assessment", "list")
    return render(request, "deployments/assessments.html", _assessments_context(request))


@login_required
@require_POST
def assessment_record(request):
    access.require(request.user, "assessment", "record")
    form = AssessmentForm(request.POST)

    def record(data):
        services.assessment_record(by=request.user, **data)

    if _submitted(request, form, record, "Assessment recorded."):
        return redirect("deployments:assessments")
    context = _assessments_context(request, form)
    return render(request, "deployments/assessments.html", context, status=400)
