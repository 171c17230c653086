import pytest

from vetvol.regions import loader
from vetvol.regions.models import Region

pytestmark = pytest.mark.django_db


def test_guangdong_has_21_cities_and_122_county_level_divisions():
    loader.load(max_level="township")
    assert Region.objects.get(code="44").name == "广东省"
    assert Region.objects.filter(level="city", parent_id="44").count() == 21
    assert Region.objects.filter(level="county", code__startswith="44").count() == 122
    counts = dict.fromkeys(["district", "county_city", "county", "autonomous_county"], 0)
    for kind in Region.objects.filter(level="county").values_list("kind", flat=True):
        counts[kind] += 1
    assert counts == {"district": 65, "county_city": 20, "county": 34, "autonomous_county": 3}
    assert 1600 <= Region.objects.filter(level="township").count() <= 1800


def test_dongguan_and_zhongshan_towns_hang_directly_under_the_city():
    loader.load(max_level="township")
    for city in ("4419", "4420"):
        assert not Region.objects.filter(level="county", parent_id=city).exists()
        towns = Region.objects.filter(parent_id=city)
        assert towns.count() > 20
        assert set(towns.values_list("level", flat=True)) == {"township"}
    assert Region.objects.get(code="441900003").parent_id == "4419"


def test_every_node_down_to_county_has_a_centre_point():
    loader.load(max_level="county")
    missing = Region.objects.filter(level__in=["province", "city", "county"], lng__isnull=True)
    assert list(missing) == []
    futian = Region.objects.get(code="440304")
    assert (round(futian.lng), round(futian.lat)) == (114, 23)


def test_loader_run_twice_changes_nothing():
    first = loader.load()
    assert first.created == Region.objects.count() > 28000
    assert Region.objects.filter(level="village").count() > 26000
    second = loader.load()
    assert (second.created, second.updated, second.unchanged) == (0, 0, first.created)


def test_loader_updates_a_renamed_node_in_place():
    loader.load(max_level="county")
    Region.objects.filter(code="440304").update(name="旧名")
    result = loader.load(max_level="county")
    assert (result.created, result.updated) == (0, 1)
    assert Region.objects.get(code="440304").name == "福田区"


def test_malformed_data_file_writes_nothing(tmp_path):
    import gzip

    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as f:
        f.write(
            "code,name,level,kind,parent,lng,lat\n44,广东省,province,province,,113.2,23.1\n4401,广州市,city,bogus,44,,\n"
        )
    with pytest.raises(loader.RegionDataError):
        loader.load(bad)
    assert Region.objects.count() == 0
