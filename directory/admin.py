"""Django admin for people, registered here because deleting a person moves its installations
to fresh anonymous profiles (installations.services.person_delete)."""

from __future__ import annotations

from django.contrib import admin

from installations import services as installation_services
from people import admin as people_admin
from people.models import Person


@admin.register(Person)
class PersonAdmin(people_admin.PersonAdmin):
    def delete_model(self, request, obj: Person) -> None:
        installation_services.person_delete(person=obj, actor=people_admin.admin_actor(request))
