from django.apps import AppConfig


class NationalConfig(AppConfig):
    name = "vetvol.national"
    label = "national"
    verbose_name = "全国志愿服务信息系统报送"
