"""The administrator's Users pages: thin callers of core/users.py."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core import access, users
from core.forms import ReasonForm

ROLE_CHOICES = [("", "Choose a role")] + list(access.ROLE_LABELS.items())


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=list(access.ROLE_LABELS.items()))


@login_required
@require_http_methods(["GET", "POST"])
def user_list(request):
    access.require(request.user, "user", "list")
    form = UserCreateForm(request.POST or None)
    created, password, status = None, "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, password = users.user_create(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
        if created is None:
            status = 400
        else:
            form = UserCreateForm()
    q = request.GET.get("q", "")
    page = users.user_list(by=request.user, q=q, page=request.GET.get("page") or 1)
    response = render(
        request,
        "core/users.html",
        {"page": page, "q": q, "form": form, "created": created, "created_password": password},
        status=status,
    )
    response["Cache-Control"] = "no-store"  # the one-time password is in this page once
    return response


# Actions on the user page that take a reason.
SERVICES = {
    "deactivate": users.user_deactivate,
    "reactivate": users.user_reactivate,
    "unlock": users.user_unlock,
}


@login_required
@require_http_methods(["GET", "POST"])
def user_detail(request, user_id):
    target = users.user_get(by=request.user, user_id=user_id)
    role_form, reason_form = (
        RoleForm(initial={"role": (target.role_names or [""])[0]}),
        ReasonForm(),
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "role":
            role_form = RoleForm(request.POST)
            if role_form.is_valid():
                if users.user_role_change(by=request.user, user=target, **role_form.cleaned_data):
                    messages.success(request, f"{target.get_username()} now holds that role.")
                return redirect("user", user_id=target.pk)
        elif action in SERVICES:
            reason_form = ReasonForm(request.POST)
            if reason_form.is_valid():
                service = SERVICES[action]
                service(by=request.user, user=target, reason=reason_form.cleaned_data["reason"])
                messages.success(request, f"{target.get_username()}: {action} recorded.")
                return redirect("user", user_id=target.pk)
    can = {
        action: access.can(request.user, "user", action, target)
        for action in ("change_role", "deactivate", "reactivate", "reset_mfa", "unlock")
    }
    return render(
        request,
        "core/user.html",
        {
            "target": target,
            "role_form": role_form,
            "reason_form": reason_form,
            "may": can,
        },
        status=400 if request.method == "POST" else 200,
    )
