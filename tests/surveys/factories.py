from datetime import timedelta

import factory
from django.utils import timezone

from surveys.models import Survey
from tests.factories import MunicipalityFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    municipality = factory.SubFactory(MunicipalityFactory)
    title = factory.Sequence(lambda n: f"Trygghetsenkät {n}")
    slug = factory.Sequence(lambda n: f"enkat-{n}")
    intro = "Svara på några frågor om trygghet."
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    languages = factory.LazyFunction(lambda: ["sv", "en", "fi"])
