"""The administrative tree and the service centres, stations and liaison points on it."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import ScopedManager

CODE_LENGTHS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
region_code_validator = RegexValidator(
    r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$", "行政区划代码应为 2、4、6、9 或 12 位数字"
)
office_phone_validator = RegexValidator(
    r"^(\d{3,4}-?\d{7,8}(-\d{1,6})?|1\d{10}|\d{5})$", "请输入有效的办公电话，例如 020-12345678 或 12345"
)


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "地级市"
    COUNTY = "county", "县级"
    TOWNSHIP = "township", "乡级"
    VILLAGE = "village", "村级"


class RegionKind(models.TextChoices):
    PROVINCE = "province", "省"
    PREFECTURE_CITY = "prefecture_city", "地级市"
    DISTRICT = "district", "市辖区"
    COUNTY_CITY = "county_city", "县级市"
    COUNTY = "county", "县"
    AUTONOMOUS_COUNTY = "autonomous_county", "自治县"
    STREET = "street", "街道"
    TOWN = "town", "镇"
    TOWNSHIP = "township", "乡"
    OTHER_TOWNSHIP = "other_township", "其他乡级单位"
    COMMUNITY = "community", "社区"
    VILLAGE = "village", "村"
    OTHER_VILLAGE = "other_village", "其他村级单位"


class Region(models.Model):
    """A node of the administrative tree, keyed by its trimmed NBS code (44, 4403, 440304, 440304001 …).

    Dongguan (4419) and Zhongshan (4420) have no county level: their towns and streets hang directly under
    the city, and their codes still start with the city's, so prefix scoping holds.
    """

    code = models.CharField("代码", max_length=12, primary_key=True, validators=[region_code_validator])
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=10, choices=RegionLevel.choices)
    kind = models.CharField("类型", max_length=20, choices=RegionKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级"
    )
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)

    objects = ScopedManager()
    region_field = "code"

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="regions_region_level_code")]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

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
    CENTRE = "centre", "退役军人服务中心"
    STATION = "station", "退役军人服务站"


class ServiceCentre(RegionScopedModel):
    """The veterans service centre (province/city/county) or station (street/town, community/village) of a
    region node: the "main position" where liaison rooms of volunteer teams sit."""

    region = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="service_centre", verbose_name="所在行政区划"
    )
    kind = models.CharField("类型", max_length=10, choices=ServiceCentreKind.choices)
    name = models.CharField("名称", max_length=100)
    address = models.CharField("办公地址", max_length=200, blank=True)
    phone = models.CharField("办公电话", max_length=32, blank=True, validators=[office_phone_validator])
    opening_hours = models.CharField("办公时间", max_length=100, blank=True)

    class Meta:
        ordering = ["region_code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["centre", "station"]), name="regions_servicecentre_kind_valid"
            )
        ]
        verbose_name = "服务中心（站）"
        verbose_name_plural = "服务中心（站）"

    def __str__(self) -> str:
        return self.name


class LiaisonPoint(RegionScopedModel):
    """A liaison room (联络室/联络点) inside a service centre or station, assigned to a volunteer team.

    The team link arrives with the registry (a nullable foreign key to registry.Team); until a team is
    assigned, the room is recorded as unassigned.
    """

    service_centre = models.ForeignKey(
        ServiceCentre,
        on_delete=models.PROTECT,
        related_name="liaison_points",
        verbose_name="所在服务中心（站）",
    )
    name = models.CharField("名称", max_length=100)
    room = models.CharField("房间", max_length=50, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["region_code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_centre", "name"],
                name="regions_liaisonpoint_unique_name",
                violation_error_message="该服务中心（站）已有同名联络点",
            )
        ]
        verbose_name = "联络点"
        verbose_name_plural = "联络点"

    def __str__(self) -> str:
        return self.name
