from django import forms

from vetvol.regions.models import LiaisonPoint, ServiceCentre


class ServiceCentreForm(forms.ModelForm):
    class Meta:
        model = ServiceCentre
        fields = ["name", "address", "phone", "opening_hours"]


class LiaisonPointForm(forms.ModelForm):
    class Meta:
        model = LiaisonPoint
        fields = ["name", "room", "is_active"]
