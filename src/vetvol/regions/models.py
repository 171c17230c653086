"""The administrative tree and the service centres, stations and liaison points on it."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import ScopedManager

CODE_LENGTHS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
region_code_validator = RegexValidator(
    r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$", _("行政区划代码应为 2、4、6、9 或 12 位数字")
)
office_phone_validator = RegexValidator(
    r"^(\d{3,4}-?\d{7,8}(-\d{1,6})?|1\d{10}|\d{5})$", _("请输入有效的办公电话，例如 020-12345678 或 12345")
)


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("地级市")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡级")
    VILLAGE = "village", _("村级")


class RegionKind(models.TextChoices):
    PROVINCE = "province", _("省")
    PREFECTURE_CITY = "prefecture_city", _("地级市")
    DISTRICT = "district", _("市辖区")
    COUNTY_CITY = "county_city", _("县级市")
    COUNTY = "county", _("县")
    AUTONOMOUS_COUNTY = "autonomous_county", _("自治县")
    STREET = "street", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    OTHER_TOWNSHIP = "other_township", _("其他乡级单位")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    OTHER_VILLAGE = "other_village", _("其他村级单位")


class Region(models.Model):
    """A node of the administrative tree, keyed by its trimmed NBS code (44, 4403, 440304, 440304001 …).

    Dongguan (4419) and Zhongshan (4420) have no county level: their towns and streets hang directly under
    the city, and their codes still start with the city's, so prefix scoping holds.
    """

    code = models.CharField(_("代码"), max_length=12, primary_key=True, validators=[region_code_validator])
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级"),
    )
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)

    objects = ScopedManager()
    region_field = "code"

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="regions_region_level_code")]
        verbose_name = pgettext_lazy("singular", "行政区划")
        verbose_name_plural = pgettext_lazy("plural", "行政区划")

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.code

    def ancestor_codes(self) -> list[str]:
        """Codes of the possible ancestors, outermost first (some, like 441900, do not exist)."""
        return [self.code[:n] for n in (2, 4, 6, 9) if n < len(self.code)]

    @property
    def is_centre_level(self) -> bool:
        """Province, city and county nodes have a service centre; townships and villages a station."""
        return self.level in {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY}


class ServiceCentreKind(models.TextChoices):
    CENTRE = "centre", _("退役军人服务中心")
    STATION = "station", _("退役军人服务站")


class ServiceCentre(RegionScopedModel):
    """The veterans service centre (province/city/county) or station (street/town, community/village) of a
    region node: the "main position" where liaison rooms of volunteer teams sit."""

    region = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="service_centre", verbose_name=_("所在行政区划")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=ServiceCentreKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("办公电话"), max_length=32, blank=True, validators=[office_phone_validator])
    opening_hours = models.CharField(_("办公时间"), max_length=100, blank=True)

    class Meta:
        ordering = ["region_code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["centre", "station"]), name="regions_servicecentre_kind_valid"
            )
        ]
        verbose_name = _("服务中心（站）")
        verbose_name_plural = pgettext_lazy("plural", "服务中心（站）")

    def __str__(self) -> str:
        return self.name


class LiaisonPoint(RegionScopedModel):
    """A liaison room (联络室/联络点) inside a service centre or station, assigned to a volunteer team.

    The link to the team lives on the team (`registry.Team.liaison_point`, reverse name `team`), so the
    region layer stays below the registry; a room with no team is unassigned.
    """

    service_centre = models.ForeignKey(
        ServiceCentre,
        on_delete=models.PROTECT,
        related_name="liaison_points",
        verbose_name=_("所在服务中心（站）"),
    )
    name = models.CharField(_("名称"), max_length=100)
    room = models.CharField(_("房间"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["region_code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_centre", "name"],
                name="regions_liaisonpoint_unique_name",
                violation_error_message=_("该服务中心（站）已有同名联络点"),
            )
        ]
        verbose_name = _("联络点")
        verbose_name_plural = pgettext_lazy("plural", "联络点")

    def __str__(self) -> str:
        return self.name
