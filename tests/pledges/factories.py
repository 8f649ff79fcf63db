from datetime import date

import factory

from pledges.models import Action, Commitment, Contact, Pledge


class PledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pledge

    valid_from = date(2021, 1, 1)
    valid_to = date(2021, 12, 31)
    background = "Enkäten visade att tryggheten i hemmet har minskat."
    follow_up = "Efter höstens medborgarundersökning och i Trygg i Östhammar."
    decision_reference = "KS § 1/2021"


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    pledge = factory.SubFactory(PledgeFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Löfte nummer {n}")
    purpose = "Syftet är att stärka den upplevda tryggheten i hemmet."
    focus = "brott i nära relation"


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action
        skip_postgeneration_save = True

    commitment = factory.SubFactory(CommitmentFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Åtgärd nummer {n}")
    description = "Beskrivning av åtgärden."

    @factory.post_generation
    def responsible(self, create, extracted, **kwargs):
        if create and extracted:
            self.responsible.set(extracted)

    @factory.post_generation
    def partners(self, create, extracted, **kwargs):
        if create and extracted:
            self.partners.set(extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    pledge = factory.SubFactory(PledgeFactory)
    name = "Karin Lind"
    role = "Trygghetssamordnare"
    organisation = "Östhammars kommun"
    email = "karin@example.se"
