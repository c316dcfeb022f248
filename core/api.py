"""The one idiom for an API action that changes one object for a stated reason.

Refuse, cancel and stop a deployment; approve, reject, withdraw and expire a watchlist
entry; place and lift a legal hold: each is a POST that finds its object (404, then the
access rule: both before the body is read), validates a reason, calls one service and
answers with the object. A service's refusal (a Django ValidationError) becomes a 400
saying why; an app with its own refusal shape overrides `refuse`.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReasonedAction(APIView):
    """Subclasses set InputSerializer, OutputSerializer and `schema_extra`; write target, act."""

    InputSerializer: type[serializers.Serializer] = ReasonIn
    OutputSerializer: type[serializers.Serializer]
    schema_extra: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "OutputSerializer"):
            return  # an abstract base of one app

        # A function of its own per class, so each carries its own schema.
        def post(self, request, **url_kwargs):
            return ReasonedAction.handle(self, request, **url_kwargs)

        schema = {
            "request": cls.InputSerializer,
            "responses": cls.OutputSerializer,
            "description": (cls.__doc__ or "").strip(),
            **cls.schema_extra,
        }
        cls.post = extend_schema(**schema)(post)

    def target(self, request, **url_kwargs):
        """The object acted on: 404 if unknown, then `access.require` for the action."""
        raise NotImplementedError

    def act(self, request, target, **data):
        """Call the service; return the object to answer with."""
        raise NotImplementedError

    def refuse(self, exc: DjangoValidationError):
        raise ValidationError({"detail": exc.messages})

    def handle(self, request, **url_kwargs):
        target = self.target(request, **url_kwargs)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = self.act(request, target, **data.validated_data)
        except DjangoValidationError as exc:
            return self.refuse(exc)
        return Response(self.OutputSerializer(result).data)
